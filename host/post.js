// The post step of the host runtime: py-aws-oidc post (see launch.js).
'use strict';
require('./launch.js').launch(['post', ...process.argv.slice(2)]);
