locals {
  variable_sub = "${var.github_oidc_issuer}:sub"

  allow_main = contains(var.default_conditions, "allow_main") ? [{
    test     = "StringLike"
    variable = local.variable_sub
    values   = ["repo:${var.repo}:ref:refs/heads/${var.repo_mainline_branch}"]
  }] : []

  allow_environment = contains(var.default_conditions, "allow_environment") ? [{
    test     = "StringLike"
    variable = local.variable_sub
    values   = [for e in var.github_environments : "repo:${var.repo}:environment:${e}"]
  }] : []

  deny_pull_request = contains(var.default_conditions, "deny_pull_request") ? [{
    test     = "StringNotLike"
    variable = local.variable_sub
    values   = ["repo:${var.repo}:pull_request"]
  }] : []

  conditions = concat(local.allow_main, local.allow_environment, local.deny_pull_request, var.conditions)
}

data "aws_iam_policy_document" "github_actions_assume_role_policy" {
  count = var.repo != null ? 1 : 0

  dynamic "statement" {
    for_each = length(var.account_ids) > 0 ? [1] : []
    content {
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = [for a in var.account_ids : "arn:aws:iam::${a}:root"]
      }
    }
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.openid_connect_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.github_oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    dynamic "condition" {
      for_each = local.conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}

resource "aws_iam_role" "main" {
  count              = var.repo != null ? 1 : 0
  name               = "${replace(var.repo, "/", "-")}-gha"
  assume_role_policy = data.aws_iam_policy_document.github_actions_assume_role_policy[0].json
}
