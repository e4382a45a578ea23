"""What to print when STS refuses a web identity token (AccessDenied, InvalidIdentityToken).

configure-aws-credentials prints nothing but STS's message; most of these failures are a trust
policy whose ``sub``/``aud`` condition does not match the token. We print the token's non-secret
claims on ordinary log lines (and in the job summary) in the JSON form that
``py-aws-oidc trust check --claims`` takes, and the trust-policy condition that most likely
failed, in the trust doctor's vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .runner import Runner


def report_denial(
    runner: Runner, claims: Mapping[str, Any] | None, audience: str, role_arn: str
) -> str:
    """Log the claims and hints (and put them in the job summary); return the error's remedy."""
    from .trust.hints import CHECK_COMMAND, claims_json, claims_summary, denial_hints

    hints: list[str] = []
    if not claims:
        runner.info("The token's claims could not be read, so no trust-policy hint can be given.")
    else:
        shown = claims_summary(claims)
        runner.info(f"STS refused the token for {role_arn}. The token's claims (not secret):")
        for key, value in shown:
            runner.info(f"  {key}: {value}")
        runner.info(f"  as JSON (for trust check --claims): {claims_json(claims)}")
        hints = denial_hints(claims, audience)
        for hint in hints:
            runner.info(f"Hint: {hint}")
        as_json = json.dumps(json.loads(claims_json(claims)), indent=2)
        runner.add_summary(
            "### STS refused the web identity token\n\n"
            f"Role: `{role_arn}`\n\nClaims (save as `claims.json` for `{CHECK_COMMAND}`):\n\n"
            f"```json\n{as_json}\n```\n\n" + "\n".join(f"- {h}" for h in hints) + "\n"
        )
    return (
        "The role's trust policy does not accept this token: compare its conditions with the "
        "claims printed above"
        + (f" ({hints[0]})" if hints else "")
        + f". Check offline: {CHECK_COMMAND}"
    )
