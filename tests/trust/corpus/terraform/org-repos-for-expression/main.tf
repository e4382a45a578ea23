resource "aws_iam_openid_connect_provider" "github" {
  count = var.enabled ? 1 : 0

  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["https://github.com/${var.github_organisation}", "sts.amazonaws.com"]
  thumbprint_list = [local.github_thumbprint]
}

resource "aws_iam_role" "github" {
  count = var.enabled ? 1 : 0

  name               = var.iam_role_name
  assume_role_policy = data.aws_iam_policy_document.assume_role[0].json
}
