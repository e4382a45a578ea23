locals {
  roles = {
    web = { repo = "octo-org/web", branch = "main" }
    api = { repo = "octo-org/api", branch = "*" }
  }
}

data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${each.value.repo}:ref:refs/heads/${each.value.branch}"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.roles
  name               = "gha-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.trust[each.key].json
}
