"""The trust-policy doctor: generate, lint and check IAM trust policies for GitHub OIDC.

One module per concern:

* :mod:`.files`     - reading FILE arguments (regular files, a size cap, UTF-8)
* :mod:`.policy`    - trust policies as typed data (strict JSON parsing, duplicate keys)
* :mod:`.evaluate`  - the offline IAM evaluator (sts-oidc-facts.md sections 5.4 and 5.5)
* :mod:`.claims`    - a token's claims (file, JWT, token file, the runner) and ``sub`` parsing
* :mod:`.generate`  - least-privilege policies as JSON or Terraform
* :mod:`.lint`      - findings with rule, severity, statement, condition, why and fix
* :mod:`.sarif`     - ``lint --format sarif`` (SARIF 2.1.0), with :mod:`.locate` for line numbers
* :mod:`.terraform` - trust policies inside ``.tf`` files (python-hcl2, imported lazily)
* :mod:`.check`     - ``trust check`` reports
* :mod:`.hints`     - the action's AccessDenied hints, in the evaluator's vocabulary
* :mod:`.audit`     - ``trust audit``: a live account's roles that trust GitHub, with
  :mod:`.iam` (botocore's IAM client, imported by the audit only), :mod:`.admits` (who can
  assume a role, in words) and :mod:`.audit_render` (text, json, sarif, markdown)
* :mod:`.cli`       - ``py-aws-oidc trust generate | lint | check | audit``

Importing this package is cheap: it re-exports nothing (the action imports only :mod:`.hints`,
on the AccessDenied path), and requests and hcl2 load only when a command needs them.
"""
