locals {
  issuer     = "token.actions.githubusercontent.com"
  audience   = { "${local.issuer}:aud" = "sts.amazonaws.com" }
  subjects   = { "${local.issuer}:sub" = ["repo:octo-org/app:ref:refs/heads/main", "repo:octo-org/*"] }
  use_like   = true
}

resource "aws_iam_role" "gha" {
  name = "gha"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/${local.issuer}" }
      Condition = merge(
        { StringEquals = local.audience },
        local.use_like ? { StringLike = local.subjects } : { StringEquals = local.subjects },
      )
    }]
  })
}
