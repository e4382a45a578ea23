"""The IAM side of ``trust audit``: botocore's IAM client, the only botocore client in the package.

The action itself makes its STS calls without an SDK client (docs/DESIGN.md); this module is
imported only by ``trust audit`` (never on the action's path, a test checks it), so the client's
cost (its service model, ~0.3 s) is paid by the audit alone. Read-only calls, each named with the
permission it needs: ``iam:ListOpenIDConnectProviders``, ``iam:GetOpenIDConnectProvider`` and
``iam:ListRoles`` (one page at a time, so the caller lints a page while the next is requested).

Credentials come from the SDK chain (``--profile``, the environment, SSO, the shared files,
container and instance credentials); botocore's standard retry mode with 3 attempts, connect and
read timeouts, and one deadline for the whole audit. Every failure is an :class:`AwsError`: one
line naming the call and the permission it needs (the CLI's exit 2), never a traceback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .errors import TrustError
from .textsafe import escape_controls

DEADLINE_S = 300.0  # the whole audit; an account with 5,000 roles takes ~20 s against AWS
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
MAX_ATTEMPTS = 3
PAGE_SIZE = 100  # ListRoles' largest useful page (IAM's default is 100)
PERMISSIONS = {
    "ListOpenIDConnectProviders": "iam:ListOpenIDConnectProviders",
    "GetOpenIDConnectProvider": "iam:GetOpenIDConnectProvider",
    "ListRoles": "iam:ListRoles",
}
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# The userinfo of a URL (``https://user:password@host``): an --endpoint-url or a proxy may carry
# one, and botocore quotes endpoint URLs in its errors (timeouts, TLS, connection).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s\"'@]*@")
_BAD_CREDENTIALS = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException"}
)


class AwsError(TrustError):
    """An IAM call failed: the message names the call and the permission it needs."""


@dataclass(frozen=True)
class OidcProvider:
    arn: str
    path: str  # the issuer without https://, as in the ARN and in condition keys
    audiences: tuple[str, ...]  # the provider's client IDs


@dataclass(frozen=True)
class RoleRecord:
    arn: str
    name: str
    document: str | dict[str, Any]  # as ListRoles returned it (see decode_document)


def decode_document(document: str | dict[str, Any]) -> str:
    """The trust policy's JSON text. IAM returns it URL-encoded (RFC 3986) in ListRoles; this
    client turns off botocore's own decoding (which would lose duplicate keys, a lint rule), and
    emulators (moto) return it plain: both are handled, and a dict is re-serialised."""
    if isinstance(document, dict):
        return json.dumps(document)
    text = document.strip()
    return text if text.startswith("{") else unquote(text)


class IamReader:
    """A botocore IAM client with the audit's retries, timeouts and deadline."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self._deadline = time.monotonic() + deadline_s
        self._deadline_s = deadline_s
        self._endpoint_url = endpoint_url
        self._client = self._make_client(profile, region, endpoint_url)

    @staticmethod
    def _make_client(profile: str | None, region: str | None, endpoint_url: str | None) -> Any:
        import botocore.session
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, UnknownServiceError
        from botocore.handlers import json_decode_policies

        try:
            session = botocore.session.Session(profile=profile)
            session.user_agent_extra = "py-aws-oidc-trust-audit"
            client = session.create_client(
                "iam",
                region_name=region or session.get_config_variable("region") or "us-east-1",
                endpoint_url=endpoint_url,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=READ_TIMEOUT_S,
                ),
            )
        except UnknownServiceError:
            raise AwsError(
                "botocore's IAM service model is not installed here (the action's image keeps "
                "STS and SSO only): run trust audit from the package, `pip install py-aws-oidc`"
            ) from None
        except BotoCoreError as exc:  # an unknown --profile, a broken config file
            raise AwsError(f"cannot set up the IAM client: {one_line(str(exc))}") from None
        except ValueError as exc:  # e.g. an --endpoint-url botocore refuses
            raise AwsError(f"--endpoint-url: {one_line(str(exc))}") from None
        client.meta.events.unregister("after-call.iam", json_decode_policies)
        return client

    @contextmanager
    def _call(self, operation: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        needs = f"the audit needs {PERMISSIONS[operation]}"
        if time.monotonic() > self._deadline:
            raise AwsError(
                f"{operation}: the audit's deadline ({self._deadline_s:.0f} s) passed; {needs}"
            )
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = one_line(str(error.get("Message", "")))
            if code in _DENIED:
                hint = f"grant {PERMISSIONS[operation]} to the caller"
            elif code in _BAD_CREDENTIALS:
                hint = f"the credentials were refused; {needs}"
            else:
                hint = needs
            raise AwsError(f"{operation}: {code}: {message} ({hint})") from None
        except NoCredentialsError:
            raise AwsError(
                f"{operation}: no AWS credentials found (use --profile NAME, AWS_PROFILE, "
                f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or `aws sso login`); {needs}"
            ) from None
        except EndpointConnectionError:
            where = one_line(self._endpoint_url or self._client.meta.endpoint_url)
            raise AwsError(
                f"{operation}: could not connect to {where} (check --endpoint-url and the "
                f"network); {needs}"
            ) from None
        except BotoCoreError as exc:  # timeouts, SSO token errors, partial credentials...
            raise AwsError(
                f"{operation}: {type(exc).__name__}: {one_line(str(exc))}; {needs}"
            ) from None

    def providers(self) -> list[OidcProvider]:
        """Every OIDC provider of the account, with its audiences (client IDs)."""
        with self._call("ListOpenIDConnectProviders"):
            listed = self._client.list_open_id_connect_providers()
        out = []
        for item in listed.get("OpenIDConnectProviderList", []):
            arn = str(item["Arn"])
            with self._call("GetOpenIDConnectProvider"):
                try:
                    found = self._client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
                except self._client.exceptions.NoSuchEntityException:
                    continue  # deleted since it was listed
            out.append(
                OidcProvider(
                    arn=arn,
                    path=arn.partition(":oidc-provider/")[2],
                    audiences=tuple(str(a) for a in found.get("ClientIDList", [])),
                )
            )
        return out

    def role_pages(self, name_prefix: str = "") -> Iterator[list[RoleRecord]]:
        """The account's roles, one ListRoles page at a time (names starting ``name_prefix``)."""
        pages = self._client.get_paginator("list_roles").paginate(
            PaginationConfig={"PageSize": PAGE_SIZE}
        )
        iterator = iter(pages)
        while True:
            with self._call("ListRoles"):
                page = next(iterator, None)
            if page is None:
                return
            yield [
                RoleRecord(str(r["Arn"]), str(r["RoleName"]), r.get("AssumeRolePolicyDocument", ""))
                for r in page.get("Roles", [])
                if str(r["RoleName"]).startswith(name_prefix)
            ]


def one_line(text: str) -> str:
    """An error text for the user: URL userinfo (a password) replaced by ``***``, control
    characters escaped."""
    return escape_controls(_USERINFO.sub(r"\1***@", text))
