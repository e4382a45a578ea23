#!/usr/bin/env python3
"""``trust audit`` on a large account (issue 22): 1,000 roles in moto's IAM, audited end to end.

    .venv/bin/python bench/trust_audit.py                # 1,000 roles, 3 timed runs
    .venv/bin/python bench/trust_audit.py --roles 5000 --runs 1 --latency-ms 50

Starts ``moto_server`` (and the fault layer in front of it, which counts the requests and can add
latency to each), makes an account of its own with a github.com provider, an enterprise provider
and ``--roles`` roles in a mix (least-privilege, org-wide, no ``sub``, ``ForAllValues``, pull
requests, reusable workflows, roles for services and for another provider), then runs
``py-aws-oidc trust audit --format json`` as a fresh process (the SDK chain reads the
credentials from the environment) and reports the wall time of each run, the CPU time of the
child, the requests it made and what it found. A benchmark, not a test: nothing is asserted
beyond a successful audit that lists the expected roles.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localdev.iam_account import GITHUB_HOST, IamAccount, trust_policy  # noqa: E402
from localdev.moto_sts import MotoServer  # noqa: E402
from localdev.sts_faults import StsFaultProxy  # noqa: E402

K = GITHUB_HOST + ":"
ENTERPRISE = GITHUB_HOST + "/acme"


def _policy(acct: IamAccount, index: int) -> tuple[dict[str, Any], bool]:
    """The index-th role's trust policy, and whether it trusts GitHub."""
    gh = acct.provider_arn()
    kind = index % 10
    repo = f"octo-org/app-{index}"
    if kind == 0:
        return trust_policy({"StringLike": {K + "sub": "repo:octo-org/*"}}, provider_arn=gh), True
    if kind == 1:
        return trust_policy({"StringEquals": {K + "aud": "sts.amazonaws.com"}}, provider_arn=gh), True
    if kind == 2:
        cond = {"ForAllValues:StringLike": {K + "sub": f"repo:{repo}:*"}}
        return trust_policy(cond, provider_arn=gh), True
    if kind == 3:
        cond = {"StringEquals": {K + "sub": f"repo:{repo}:pull_request"}}
        return trust_policy(cond, provider_arn=gh), True
    if kind == 4:
        wf = f"octo-org/shared/.github/workflows/deploy.yml@refs/heads/main-{index}"
        cond = {"StringEquals": {K + "job_workflow_ref": wf, K + "aud": "sts.amazonaws.com"}}
        return trust_policy(cond, provider_arn=gh), True
    if kind == 5:
        cond = {"StringEquals": {f"{ENTERPRISE}:sub": f"repo:acme/x{index}:ref:refs/heads/main"}}
        return trust_policy(cond, provider_arn=acct.provider_arn(ENTERPRISE)), True
    if kind == 6:
        service = {"Service": "lambda.amazonaws.com"}
        return trust_policy(None, principal=service, action="sts:AssumeRole"), False
    if kind == 7:
        cond = {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/X:sub": f"sa-{index}"}}
        eks = acct.provider_arn("oidc.eks.us-east-1.amazonaws.com/id/X")
        return trust_policy(cond, provider_arn=eks), False
    cond = {
        "StringEquals": {
            K + "aud": "sts.amazonaws.com",
            K + "sub": [f"repo:{repo}:environment:production", f"repo:{repo}:ref:refs/heads/main"],
        }
    }
    return trust_policy(cond, provider_arn=gh), True


def populate(acct: IamAccount, roles: int) -> int:
    acct.add_provider()
    acct.add_provider(ENTERPRISE)
    github = 0
    for index in range(roles):
        policy, trusts_github = _policy(acct, index)
        acct.add_role(f"role-{index:05d}", policy)
        github += trusts_github
    return github


def run_once(acct: IamAccount, endpoint: str) -> tuple[float, float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(acct.env, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "py_aws_oidc", "trust", "audit", "--endpoint-url", endpoint,
         "--format", "json", "--fail-on", "never"],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"trust audit exited {proc.returncode}: {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to each request")
    args = parser.parse_args()
    with MotoServer() as moto, StsFaultProxy(moto.url) as layer:
        acct = IamAccount.create(layer.url)
        start = time.perf_counter()
        github = populate(acct, args.roles)
        print(f"created {args.roles} roles ({github} trust GitHub) in "
              f"{time.perf_counter() - start:.1f} s")
        layer.latency_s = args.latency_ms / 1000
        walls, cpus = [], []
        for _ in range(args.runs):
            layer.reset()
            layer.latency_s = args.latency_ms / 1000
            wall, cpu, report = run_once(acct, layer.url)
            walls.append(wall)
            cpus.append(cpu)
            if report["counts"]["roles"] != github:
                raise SystemExit(f"expected {github} roles, the audit listed "
                                 f"{report['counts']['roles']}")
            pages = len(layer.calls_for("ListRoles"))
            print(f"  run: {wall:.2f} s wall, {cpu:.2f} s CPU, {pages} ListRoles pages, "
                  f"{len(layer.calls)} requests")
        print(f"trust audit --format json, {args.roles} roles ({github} listed), "
              f"+{args.latency_ms:.0f} ms/request: median {statistics.median(walls):.2f} s wall, "
              f"{statistics.median(cpus):.2f} s CPU; counts {json.dumps(report['counts'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
