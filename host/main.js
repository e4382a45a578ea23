// The main step of the host runtime: py-aws-oidc ARGS (see launch.js).
'use strict';
require('./launch.js').launch(process.argv.slice(2));
