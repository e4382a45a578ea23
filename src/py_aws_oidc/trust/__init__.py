"""The trust-policy doctor: generate, lint and check IAM trust policies for GitHub OIDC.

One module per concern:

* :mod:`.policy`    - trust policies as typed data (strict JSON parsing, duplicate keys)
* :mod:`.evaluate`  - the offline IAM evaluator (sts-oidc-facts.md sections 5.4 and 5.5)
* :mod:`.claims`    - a token's claims (file, JWT, token file, the runner) and ``sub`` parsing
* :mod:`.generate`  - least-privilege policies as JSON or Terraform
* :mod:`.lint`      - findings with rule, severity, statement, condition, why and fix
* :mod:`.terraform` - trust policies inside ``.tf`` files (python-hcl2, imported lazily)
* :mod:`.check`     - ``trust check`` reports
* :mod:`.hints`     - the action's AccessDenied hints, in the evaluator's vocabulary
* :mod:`.cli`       - ``py-aws-oidc trust generate | lint | check``

Importing this package is cheap: requests, pyjwt and hcl2 load only when a command needs them.
"""

from __future__ import annotations

from .claims import Subject, parse_subject
from .errors import ClaimsError, GenerateError, MalformedPolicyError, TrustError
from .evaluate import Decision, Request, evaluate, evaluate_claims
from .generate import GenerateOptions, generate
from .hints import claims_json, claims_summary, denial_hints
from .lint import Finding, lint_policy
from .policy import Policy, parse_policy_document, parse_policy_text

__all__ = [
    "ClaimsError",
    "Decision",
    "Finding",
    "GenerateError",
    "GenerateOptions",
    "MalformedPolicyError",
    "Policy",
    "Request",
    "Subject",
    "TrustError",
    "claims_json",
    "claims_summary",
    "denial_hints",
    "evaluate",
    "evaluate_claims",
    "generate",
    "lint_policy",
    "parse_policy_document",
    "parse_policy_text",
    "parse_subject",
]
