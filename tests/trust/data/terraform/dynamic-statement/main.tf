variable "repositories" {
  type = map(string)
  default = {
    "octo-org/app"  = "ref:refs/heads/main"
    "octo-org/docs" = "*"
  }
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = var.repositories
    iterator = repo
    content {
      sid     = replace(repo.key, "/", "-")
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = ["arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "token.actions.githubusercontent.com:aud"
        values   = ["sts.amazonaws.com"]
      }
      condition {
        test     = "StringLike"
        variable = "token.actions.githubusercontent.com:sub"
        values   = ["repo:${repo.key}:${repo.value}"]
      }
    }
  }
}
