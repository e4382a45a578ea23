"""py-aws-oidc: GitHub Actions OIDC (or keys) -> short-lived AWS credentials via STS.

The public API is the console script ``py-aws-oidc`` (see :mod:`py_aws_oidc.cli`); the modules
are implementation details, named by concern (runner I/O, config, oidc, sts, assume, export).
"""

__version__ = "1.1.0"
