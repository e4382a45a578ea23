# A generic role module: each kind of trust is a dynamic statement switched on by a variable,
# plus free-form statements; the inline permissions document also has dynamic principals.
variable "enable_github_oidc" {
  type    = bool
  default = false
}

variable "github_subjects" {
  type    = list(string)
  default = []
}

variable "audiences" {
  type    = list(string)
  default = []
}

variable "extra_statements" {
  type = map(object({
    actions        = optional(list(string))
    not_actions    = optional(list(string))
    principals     = optional(list(object({ type = string, identifiers = list(string) })))
    not_principals = optional(list(object({ type = string, identifiers = list(string) })))
  }))
  default = null
}

locals {
  github_host = "token.actions.githubusercontent.com"
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  dynamic "statement" {
    for_each = var.enable_github_oidc ? [1] : []
    content {
      sid     = "GitHubActions"
      actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
      principals {
        type        = "Federated"
        identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.github_host}"]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.github_host}:aud"
        values   = coalescelist(var.audiences, ["sts.amazonaws.com"])
      }
      dynamic "condition" {
        for_each = length(var.github_subjects) > 0 ? [1] : []
        content {
          test     = "StringLike"
          variable = "${local.github_host}:sub"
          values   = [for s in var.github_subjects : "repo:${trimprefix(s, "repo:")}"]
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.extra_statements != null ? var.extra_statements : {}
    content {
      sid         = statement.key
      actions     = statement.value.actions
      not_actions = statement.value.not_actions
      dynamic "principals" {
        for_each = statement.value.principals != null ? statement.value.principals : []
        content {
          type        = principals.value.type
          identifiers = principals.value.identifiers
        }
      }
      dynamic "not_principals" {
        for_each = statement.value.not_principals != null ? statement.value.not_principals : []
        content {
          type        = not_principals.value.type
          identifiers = not_principals.value.identifiers
        }
      }
    }
  }
}

data "aws_iam_policy_document" "permissions" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "deploy"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "this" {
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}
