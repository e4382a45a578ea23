"""Regions, partitions and ARNs, without loading botocore (start-up time matters).

The regexes are botocore's ``partitions.json``; the order matters because ``us-gov-*`` and
``us-iso*`` also look like ``us-*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGION_PATTERN = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")


@dataclass(frozen=True)
class Partition:
    name: str
    dns_suffix: str
    default_audience: str


_PARTITIONS: tuple[tuple[re.Pattern[str], Partition], ...] = (
    (
        re.compile(r"^us-gov-\w+-\d+$"),
        Partition("aws-us-gov", "amazonaws.com", "sts.amazonaws.com"),
    ),
    (re.compile(r"^cn-\w+-\d+$"), Partition("aws-cn", "amazonaws.com.cn", "sts.amazonaws.com.cn")),
    (re.compile(r"^us-iso-\w+-\d+$"), Partition("aws-iso", "c2s.ic.gov", "sts.amazonaws.com")),
    (
        re.compile(r"^us-isob-\w+-\d+$"),
        Partition("aws-iso-b", "sc2s.sgov.gov", "sts.amazonaws.com"),
    ),
    (
        re.compile(r"^eu-isoe-\w+-\d+$"),
        Partition("aws-iso-e", "cloud.adc-e.uk", "sts.amazonaws.com"),
    ),
    (
        re.compile(r"^us-isof-\w+-\d+$"),
        Partition("aws-iso-f", "csp.hci.ic.gov", "sts.amazonaws.com"),
    ),
    (
        re.compile(r"^eusc-(de)-\w+-\d+$"),
        Partition("aws-eusc", "amazonaws.eu", "sts.amazonaws.com"),
    ),
)
_AWS = Partition("aws", "amazonaws.com", "sts.amazonaws.com")

KNOWN_PARTITIONS = frozenset({p.name for _, p in _PARTITIONS} | {"aws"})

# arn:<partition>:iam::<12 digits>:role/<path/name>; the name part is IAM's role-name charset.
ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,64})$",
    re.ASCII,  # IAM's \w is ASCII; Python's would accept any letter
)
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
ASSUMED_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?:sts|iam)::(?P<account>\d{12}):(?P<resource>.+)$",
    re.ASCII,
)


def partition_for_region(region: str) -> Partition:
    for pattern, partition in _PARTITIONS:
        if pattern.match(region):
            return partition
    return _AWS


def role_arn(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def account_of(arn: str) -> str | None:
    """The account ID inside an IAM/STS ARN, or None."""
    match = ASSUMED_ROLE_ARN.match(arn)
    return match.group("account") if match else None


def regional_sts_endpoint(region: str) -> str:
    return f"https://sts.{region}.{partition_for_region(region).dns_suffix}"
