"""Reading a FILE argument: a JSON trust policy, or a Terraform file holding trust policies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import MalformedPolicyError
from .policy import Policy, parse_policy_text


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    unresolved: tuple[tuple[int | None, str, str], ...] = ()  # (statement, where, expression)


@dataclass(frozen=True)
class PolicyFile:
    path: str
    policies: tuple[LoadedPolicy, ...]
    skipped: tuple[str, ...] = ()


def is_terraform(path: str) -> bool:
    return path.endswith(".tf")


def read_policy_file(path: str) -> PolicyFile:
    """Every trust policy in ``path``; :class:`MalformedPolicyError` if there is none to read."""
    if is_terraform(path):
        from .terraform import read_terraform

        tf = read_terraform(path)
        if not tf.policies:
            why = "".join(f"; skipped {note}" for note in tf.skipped)
            raise MalformedPolicyError(
                f"{path}: no trust policy found (no aws_iam_policy_document with principals, no "
                f"aws_iam_role assume_role_policy){why}"
            )
        return PolicyFile(
            path=path,
            policies=tuple(
                LoadedPolicy(
                    p.policy,
                    tuple((u.statement_index, u.where, u.expression) for u in p.unresolved),
                )
                for p in tf.policies
            ),
            skipped=tf.skipped,
        )
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MalformedPolicyError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedPolicyError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    return PolicyFile(path=path, policies=(LoadedPolicy(parse_policy_text(text, path)),))
