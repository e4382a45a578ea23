"""The workflow context of a push to ``main`` of ``octo-org/octo-repo``, as the GitHub runner
sets it for a step: the harness, the demo and the benchmark run the action in it, and the local
issuer's default token claims match it (:data:`localdev.oidc_issuer.DEFAULT_SHA` and friends)."""

from __future__ import annotations

from .oidc_issuer import DEFAULT_SHA

RUNNER_CONTEXT: dict[str, str] = {
    "GITHUB_ACTIONS": "true",
    "CI": "true",
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_REPOSITORY_OWNER": "octo-org",
    "GITHUB_REPOSITORY_ID": "123456789",
    "GITHUB_REPOSITORY_OWNER_ID": "987654321",
    "GITHUB_SHA": DEFAULT_SHA,
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_REF_PROTECTED": "true",
    "GITHUB_BASE_REF": "",
    "GITHUB_HEAD_REF": "",
    "GITHUB_WORKFLOW": "Deploy",
    "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "GITHUB_WORKFLOW_SHA": DEFAULT_SHA,
    "GITHUB_ACTOR": "octocat",
    "GITHUB_ACTOR_ID": "583231",
    "GITHUB_TRIGGERING_ACTOR": "octocat",
    "GITHUB_ACTION": "__octo-org_py-aws-oidc",
    "GITHUB_ACTION_REPOSITORY": "octo-org/py-aws-oidc",
    "GITHUB_ACTION_REF": "v1",
    "GITHUB_RUN_ID": "1234567890",
    "GITHUB_RUN_NUMBER": "42",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_JOB": "deploy",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
    "GITHUB_RETENTION_DAYS": "90",
    "RUNNER_OS": "Linux",
    "RUNNER_ARCH": "X64",
    "RUNNER_NAME": "GitHub Actions 2",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "LANG": "C.UTF-8",
    # The image's ENV (Dockerfile) also sets this; it keeps ordering of stdout lines exact.
    "PYTHONUNBUFFERED": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
