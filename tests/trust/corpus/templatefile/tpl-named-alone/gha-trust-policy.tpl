{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "${gh_oidc_provider_arn}"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:${github_org}/${github_repo}:*"},
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
      }
    }
  ]
}
