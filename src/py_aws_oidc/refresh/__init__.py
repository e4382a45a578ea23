"""``refresh-credentials``: a session that later steps re-mint on demand (SPEC 1.1).

The step (:mod:`.bundle`) leaves a 0700 directory on the runner's host holding a copy of this
package and its pure-Python dependencies (``lib/``), the settings of the chain (``settings.json``),
the first session (``session.json``, the cache), a lock file and an AWS config file whose
profile runs ``/usr/bin/env -u LD_LIBRARY_PATH ... python3 -I -S <dir>/lib/__main__.py`` as its
``credential_process``.

The credential process (:mod:`.process`) prints the cached session while it has more than the
refresh margin left, importing nothing but the standard library; otherwise it takes the lock and
mints a new session with the package's own token, chain and STS code (:mod:`.mint`).

This ``__init__`` stays empty: the process imports ``py_aws_oidc.refresh.process`` on every call,
and a cache hit must not pay for anything it does not use.
"""
