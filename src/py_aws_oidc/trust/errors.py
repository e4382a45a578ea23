"""The trust doctor's errors: each one is a message for the user, never a traceback."""

from __future__ import annotations


class TrustError(Exception):
    """A problem with the user's input that the CLI reports as one clear line (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedPolicyError(TrustError):
    """The policy document is not a trust policy IAM would accept."""


class NoTrustPolicyError(MalformedPolicyError):
    """A Terraform file holds no trust policy (maybe only permission policies)."""


class ClaimsError(TrustError):
    """The claims (a file, a token, the runner's token endpoint) could not be read."""


class GenerateError(TrustError):
    """``trust generate`` was asked for something it cannot express safely."""


class UnreadableFileError(TrustError):
    """A file to read is missing, not a regular file, too large, outside its module, or not text."""


class MissingExtraError(TrustError):
    """A feature needs an optional dependency that this installation lacks (the `trust` extra:
    the action's image ships without the Terraform parser)."""


class TerraformInputError(TrustError):
    """A ``--var`` is not ``NAME=VALUE``: fix the command line."""
