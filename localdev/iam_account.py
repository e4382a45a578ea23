"""A fresh AWS account in moto's IAM, for ``trust audit``'s tests and benchmark.

moto keeps every account in one server: the account of a request is the one whose access key
signed it, and AssumeRole into ``arn:aws:iam::ACCOUNT:role/...`` issues keys of ACCOUNT. So each
:class:`IamAccount` assumes a role in a new random account through the real STS API and gets an
account of its own (its providers and roles only), on the server the tests already run.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

ARWWI = "sts:AssumeRoleWithWebIdentity"
GITHUB_HOST = "token.actions.githubusercontent.com"


def _client(service: str, endpoint_url: str, key: str, secret: str, token: str | None) -> Any:
    import botocore.session

    session = botocore.session.Session()
    return session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def trust_policy(
    conditions: dict[str, Any] | None,
    *,
    provider_arn: str | None = None,
    principal: Any = None,
    action: str = ARWWI,
) -> dict[str, Any]:
    """A one-statement trust policy (``principal`` replaces the Federated provider)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal if principal is not None else {"Federated": provider_arn},
        "Action": action,
    }
    if conditions:
        statement["Condition"] = conditions
    return {"Version": "2012-10-17", "Statement": [statement]}


@dataclass
class IamAccount:
    account_id: str
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    iam: Any

    @classmethod
    def create(cls, endpoint_url: str, account_id: str | None = None) -> IamAccount:
        account = account_id or str(random.randrange(10**11, 10**12))
        sts = _client("sts", endpoint_url, "AKIAIOSFODNN7EXAMPLE", "moto-any-secret", None)
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/auditor", RoleSessionName="audit"
        )["Credentials"]
        key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        iam = _client("iam", endpoint_url, key, secret, token)
        return cls(account, endpoint_url, key, secret, token, iam)

    @property
    def env(self) -> dict[str, str]:
        """The credentials as the SDK chain reads them from the environment."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def provider_arn(self, path: str = GITHUB_HOST) -> str:
        return f"arn:aws:iam::{self.account_id}:oidc-provider/{path}"

    def add_provider(self, path: str = GITHUB_HOST, audiences: tuple[str, ...] = ()) -> str:
        """An OIDC provider for ``https://PATH`` (audiences default to sts.amazonaws.com)."""
        found = self.iam.create_open_id_connect_provider(
            Url=f"https://{path}",
            ClientIDList=list(audiences or ("sts.amazonaws.com",)),
            ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
        )
        return str(found["OpenIDConnectProviderArn"])

    def add_role(self, name: str, policy: dict[str, Any]) -> str:
        found = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))
        return str(found["Role"]["Arn"])
