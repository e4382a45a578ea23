"""The errors a user can fix, one class per remedy.

``action.run_main`` (and ``action.run_post``) catch :class:`ActionError` and print exactly one
``::error::`` line with the message (what is wrong) and the remedy (how to fix it); anything else is a bug and is reported
as such, still without a traceback. Messages never contain secrets: they are built from input
names, ARNs, error codes and claims, never from tokens or keys.
"""

from __future__ import annotations


class ActionError(Exception):
    """Base class: a failure the user can fix. ``remedy`` says how."""

    remedy: str = ""

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if remedy is not None:
            self.remedy = remedy

    def __str__(self) -> str:
        if not self.remedy:
            return self.message
        separator = " " if self.message.rstrip().endswith((".", ":", "?", "!")) else ". "
        return f"{self.message.rstrip()}{separator}{self.remedy}"


class InputError(ActionError):
    """One input has a value the action cannot use. Fix: change that input."""

    def __init__(self, input_name: str, message: str, *, remedy: str | None = None) -> None:
        self.input_name = input_name
        super().__init__(f"Input '{input_name}': {message}", remedy=remedy)


class ConflictingInputsError(ActionError):
    """Inputs that make sense alone but not together. Fix: drop or change one of them."""


class RunnerEnvironmentError(ActionError):
    """The runner did not provide a file or variable the action needs."""


class UnsendableRequestError(ActionError):
    """A request could not be sent at all: its URL or a header is malformed, so nothing left this
    machine and a retry would fail the same way. Fix: the URL's source (``sts-endpoint``,
    ``http-proxy``, or the runner's ``ACTIONS_ID_TOKEN_REQUEST_URL``)."""


class UntrustedCertificateError(ActionError):
    """The server's TLS certificate failed verification: retrying cannot help. Fix: name the CA
    bundle that signs it (a TLS-intercepting proxy's) in ``AWS_CA_BUNDLE`` or ``SSL_CERT_FILE``."""

    remedy = (
        "If the runner reaches AWS through a TLS-intercepting proxy, set AWS_CA_BUNDLE (or "
        "SSL_CERT_FILE / REQUESTS_CA_BUNDLE) to its CA bundle for this step; otherwise check "
        "sts-endpoint. On a runner host the operating system's trust store is used when none "
        "is set, in the container action the image's CA bundle."
    )


class ExportWriteError(ActionError):
    """GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE or the job summary could not be written; the
    message says what was already written."""


class OidcPermissionError(ActionError):
    """The job cannot request an OIDC token (no ``id-token: write``, or a fork pull request)."""

    remedy = (
        "Add 'permissions: id-token: write' to the job (or workflow) that uses this action. "
        "Pull requests from forks never get an OIDC token: use 'pull_request_target' with care, "
        "or static credentials, for those."
    )


class OidcTokenError(ActionError):
    """The runner's token endpoint refused the request or answered something unusable."""


class TokenFileError(ActionError):
    """The web identity token file is missing, not a regular file, or a symlink."""


class CredentialsNotFoundError(ActionError):
    """Existing credentials were needed (role-chaining, no role) but none could be loaded."""


class MalformedCredentialsError(ActionError):
    """Existing credentials (environment variables, shared files) hold characters no AWS key or
    token has: fix the step or file that set them."""

    remedy = (
        "Fix the earlier step or file that set them (a copied line break or space is the usual "
        "cause), or pass keys as inputs."
    )


class StsError(ActionError):
    """STS refused a request. ``code`` is STS's error code, ``hop`` the 1-based chain position."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        hop: int = 1,
        remedy: str | None = None,
    ) -> None:
        self.code = code
        self.hop = hop
        super().__init__(message, remedy=remedy)


class AccessDeniedError(StsError):
    """The role's trust policy did not allow this caller (AccessDenied / InvalidIdentityToken)."""


class DurationRefusedError(StsError):
    """The requested session duration exceeds what the role (or role chaining) allows."""


class RetriesExhaustedError(StsError):
    """A transient failure persisted through every allowed attempt."""


class AccountNotAllowedError(ActionError):
    """The credentials belong to an account that ``allowed-account-ids`` does not list."""


class ProfileError(ActionError):
    """The AWS profile files could not be written safely."""


class ActionTimeoutError(ActionError):
    """The whole step ran longer than ``action-timeout-s``."""


class FileCommandInjectionError(ActionError):
    """A name or value would add an entry to a runner file (GITHUB_ENV, GITHUB_OUTPUT, ...)."""
