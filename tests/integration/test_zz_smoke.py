ROLE="arn:aws:iam::111122223333:role/a"
def test_malformed(run_action, sts):
    sts.respond_next("AssumeRoleWithWebIdentity", 200, "<AssumeRoleWithWebIdentityResponse xmlns='https://sts.amazonaws.com/doc/2011-06-15/'><AssumeRoleWithWebIdentityResult><Garbage/></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", "text/xml", times=20)
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE})
    print(r.stdout[-2000:], r.stderr, r.sts_calls, r.duration_s)
def test_malformed2(run_action, sts):
    sts.respond_next("AssumeRoleWithWebIdentity", 200, "<<<not xml", "text/xml", times=20)
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE})
    print(r.stdout[-2000:], r.stderr, r.sts_calls, r.duration_s)
def test_fast(run_action, sts):
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE, "role-duration-seconds": "899"})
    print(r.stdout[-2000:], r.stderr, r.sts_calls, r.duration_s)
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE}, oidc=False)
    print(r.stdout[-2000:], r.stderr, r.sts_calls, r.duration_s)
def test_denied(run_action, sts, oidc_issuer):
    oidc_issuer.claims = {"environment": "prod"}
    sts.trust = lambda c: False
    r = run_action({"aws-region": "us-east-1", "role-to-assume": ROLE})
    print(r.stdout[-5000:], r.stderr, r.sts_calls, r.duration_s, r.summary)
