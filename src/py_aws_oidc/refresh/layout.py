"""Names shared by the step that writes the refresh directory and the process that reads it.

Standard library only, and Python 3.10 syntax: the credential process runs on the runner's host
with whatever ``python3`` is there (3.10 on ubuntu-22.04 runners).
"""

from __future__ import annotations

MARGIN_VAR = "PY_AWS_OIDC_REFRESH_MARGIN_S"
DEFAULT_MARGIN_S = 1200
MAX_MARGIN_S = 43200
DEFAULT_PROFILE = "py-aws-oidc"
DIR_PREFIX = "py-aws-oidc-refresh-"
LIB_DIR = "lib"
LAUNCHER_FILE = "__main__.py"
SETTINGS_FILE = "settings.json"
CACHE_FILE = "session.json"
LOCK_FILE = "lock"
CONFIG_FILE = "config"
SETTINGS_FORMAT = 1
MIN_PYTHON = (3, 10)
# The credential_process document's keys, in the order the AWS CLI documents them.
DOCUMENT_KEYS = ("Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
