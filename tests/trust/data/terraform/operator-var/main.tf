variable "subject_condition" {
  type        = string
  description = "StringEquals or StringLike"
}

data "aws_iam_policy_document" "this" {
  statement {
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
      test     = var.subject_condition
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:octo-org/app:*"]
    }
  }
}
