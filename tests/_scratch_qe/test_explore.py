import time
ROLE = "arn:aws:iam::111122223333:role/gha-entry"

def test_explore(run_action, sts, oidc_issuer):
    t=time.monotonic()
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE, "output-credentials": "true"})
    print("dur", r.duration_s, time.monotonic()-t)
    print(r.stdout)
    print(r.env_entries and [n for n,_ in r.env_entries])
    print(r.outputs.keys(), r.outputs.get("aws-expiration"), r.outputs.get("authenticated-arn"))
    print(r.summary)
    print(sts.calls)
    print(r.token_requests)
    r = run_action({"aws-region": "us-east-1", "aws-access-key-id": "AKIAIOSFODNN7EXAMPLE", "aws-secret-access-key": "abcdefghijabcdefghij", "role-to-assume": "deploy"})
    print(r.stdout); print(r.sts_calls); print([ (c.action, c.access_key_id, c.response) for c in r.sts_calls])
    assert 0
