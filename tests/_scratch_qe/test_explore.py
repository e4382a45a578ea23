import time
ROLE = "arn:aws:iam::111122223333:role/gha-entry"
K = {"aws-access-key-id": "AKIAIOSFODNN7EXAMPLE", "aws-secret-access-key": "abcdefghijabcdefghij"}
def show(r):
    print("=== rc", r.returncode, "dur %.2f" % r.duration_s)
    print(r.stdout[-3000:]); print("ERR", r.stderr[-2000:])
    print("ENV", [(n, v[:6]) for n,v in r.env_entries]); print("OUT", r.outputs)
    print("CALLS", [(c.action, c.access_key_id, c.params.get("RoleArn"), c.status) for c in r.sts_calls])
    print("TOK", len(r.token_requests))

def test_explore(run_action, sts, oidc_issuer, workspace):
    scen = [
      ({"aws-region": "us-east-1", "role-to-assume": ROLE}, dict(oidc=False)),
      ({"aws-region": "us-east-1", **K}, {}),
      ({"aws-region": "cn-north-1", **K, "role-to-assume": "deploy"}, {}),
      ({"aws-region": "us-east-1", "role-chaining": "true", "role-to-assume": ROLE}, dict(env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "abcdefghijabcdefghij"})),
      ({"aws-region": "us-east-1"}, dict(env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "abcdefghijabcdefghij"})),
      ({"aws-region": "us-east-1", "use-existing-credentials": "true", "role-to-assume": ROLE}, dict(env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "abcdefghijabcdefghij"})),
      ({"aws-region": "us-east-1", "use-existing-credentials": "true", "role-to-assume": ROLE}, {}),
      ({"aws-region": "us-east-1", "force-skip-oidc": "true", "role-to-assume": ROLE}, {}),
    ]
    for inputs, kw in scen:
        t = time.monotonic()
        show(run_action(inputs, **kw))
        print("wall", time.monotonic() - t)
    assert 0
