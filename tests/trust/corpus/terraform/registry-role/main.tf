data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # tolerate a url given with its scheme
  issuer_host = replace(var.issuer_url, "https://", "")
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "trust" {
  count = var.enabled ? 1 : 0

  statement {
    sid    = "GitHubActions"
    effect = "Allow"
    actions = [
      "sts:TagSession",
      "sts:AssumeRoleWithWebIdentity",
    ]

    principals {
      type        = "Federated"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.issuer_host}"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "token.actions.githubusercontent.com:iss"
      values   = ["http://token.actions.githubusercontent.com"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = [var.audience]
    }

    condition {
      test     = "StringLike"
      variable = "${local.issuer_host}:sub"
      values   = [for s in var.subjects : "repo:${trimprefix(s, "repo:")}"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.enabled ? 1 : 0

  name                 = var.name
  assume_role_policy   = data.aws_iam_policy_document.trust[0].json
  max_session_duration = var.max_session_duration
}
