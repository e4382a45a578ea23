#!/usr/bin/env python3
"""Wall time of the ``refresh-credentials`` credential process (issue 13): cache hit and mint.

    .venv/bin/python bench/refresh_process.py            # 20 runs of each, medians
    .venv/bin/python bench/refresh_process.py --runs 50 --json -

Runs the real step once (the ``py-aws-oidc`` console script of this venv, in a runner-like
environment, against the local OIDC issuer and moto behind the STS fault layer), then runs the
profile's ``credential_process`` as a later step would: the host's ``python3 -I -S <dir>/lib``,
split with ``shlex`` (no shell), a fresh process each time:

* ``hit``: the cache has more than the margin left: must print the cached session and make no
  request (checked on both servers for every run);
* ``mint``: before each run the cache's Expiration is moved to 5 minutes from now (less than the
  1200 s margin): must make exactly one token request and one AssumeRoleWithWebIdentity.

The two kinds are interleaved with ``python3 -I -S -c pass`` (the interpreter alone, for scale),
so machine load hits them alike. Also printed: how many modules
the hit path imports (``-X importtime``), none of them botocore, requests or urllib3.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", help="also write the results as JSON to this file ('-': stdout)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from localdev.moto_sts import MotoServer
    from localdev.oidc_issuer import OidcIssuer
    from localdev.sts_faults import StsFaultProxy
    from tests.support.harness import ActionHarness
    from tests.support.later_steps import read_profile

    python3 = shutil.which("python3", path=HOST_PATH)
    if python3 is None:
        raise SystemExit("bench: no python3 on the host PATH")
    version = subprocess.run([python3, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    base = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True,
                               check=True).stdout.strip())
    try:
        with MotoServer() as moto, OidcIssuer() as issuer, \
                StsFaultProxy(moto.url, verify_tokens=issuer) as sts:
            harness = ActionHarness(base_dir=base / "runner", issuer=issuer, sts=sts,
                                    workspace=base / "workspace")
            step = harness.run_action({"aws-region": "us-east-1",
                                       "role-to-assume": "arn:aws:iam::111122223333:role/gha-entry",
                                       "refresh-credentials": "true"})
            if not step.ok:
                raise SystemExit(f"bench: the step failed\n{step.explain()}")
            config = Path(step.env["AWS_CONFIG_FILE"])
            line = read_profile(config, step.env["AWS_PROFILE"])["credential_process"]
            command = [python3 if word == "python3" else word for word in shlex.split(line)]
            cache = config.parent / "session.json"
            env = {"PATH": HOST_PATH, "HOME": str(base), **step.env,
                   "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.token_url,
                   "ACTIONS_ID_TOKEN_REQUEST_TOKEN": issuer.request_token}

            def once(kind: str) -> float:
                if kind == "baseline":  # the interpreter alone, for scale
                    t0 = time.perf_counter()
                    subprocess.run([python3, "-I", "-S", "-c", "pass"], check=True)
                    return time.perf_counter() - t0
                if kind == "mint":
                    doc = json.loads(cache.read_text())
                    doc["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(time.time() + 300))
                    cache.write_text(json.dumps(doc))
                tokens, calls = len(issuer.token_requests), len(sts.calls)
                t0 = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True,
                                      check=False)
                elapsed = time.perf_counter() - t0
                if done.returncode != 0 or done.stderr or "AccessKeyId" not in done.stdout:
                    raise SystemExit(f"bench: {kind} run failed: {done.stderr.strip()}")
                made = (len(issuer.token_requests) - tokens, len(sts.calls) - calls)
                if made != ((0, 0) if kind == "hit" else (1, 1)):
                    raise SystemExit(f"bench: {kind} made {made} (token, STS) requests")
                return elapsed

            once("mint")  # warm-up: the first mint writes the bytecode caches
            once("hit")
            samples: dict[str, list[float]] = {"baseline": [], "hit": [], "mint": []}
            for _ in range(args.runs):
                for kind, values in samples.items():
                    values.append(once(kind))
            imports = subprocess.run([*command[:1], "-X", "importtime", *command[1:]], env=env,
                                     capture_output=True, text=True, check=True).stderr
            modules = [row.split("|")[-1].strip() for row in imports.splitlines()
                       if row.startswith("import time:") and "imported package" not in row]
    finally:
        shutil.rmtree(base, ignore_errors=True)

    heavy = [m for m in modules if m.split(".")[0] in ("botocore", "requests", "urllib3")]
    results: dict[str, Any] = {
        "python3": f"{python3} {version}",
        "command": " ".join(shlex.quote(w) for w in command),
        "runs": args.runs,
        **{f"{kind}_ms": {"median": round(statistics.median(v) * 1000, 1),
                          "min": round(min(v) * 1000, 1)} for kind, v in samples.items()},
        "hit_path_modules": len(modules),
        "hit_path_heavy_modules": heavy,
    }
    print(f"credential process: {results['command']}  ({results['python3']})")
    for kind in samples:
        r = results[f"{kind}_ms"]
        print(f"  {kind:<8} median {r['median']:7.1f} ms   min {r['min']:7.1f} ms   "
              f"({args.runs} runs)")
    print(f"  the hit path imports {len(modules)} modules; botocore/requests/urllib3: "
          f"{heavy or 'none'}")
    if args.json:
        text = json.dumps(results, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
