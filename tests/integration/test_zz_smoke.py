def test_smoke(run_action, sts, oidc_issuer):
    r = run_action({"aws-region": "us-east-1", "role-to-assume": "arn:aws:iam::111122223333:role/a\narn:aws:iam::111122223333:role/b",
                    "session-tags": "Team=x", "transitive-tag-keys": "Team"})
    print(r.stdout)
    print(r.stderr)
    print(r.env, r.outputs)
    for c in r.sts_calls:
        print(c, c.access_key_id, c.response.get("AccessKeyId"), c.tags, c.params.get("RoleSessionName"))
    print(r.duration_s)
