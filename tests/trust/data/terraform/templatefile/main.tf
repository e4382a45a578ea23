variable "repository" {
  type    = string
  default = "octo-org/app"
}

resource "aws_iam_role" "gha" {
  name = "gha"
  assume_role_policy = templatefile("${path.module}/trust.json.tpl", {
    provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    subjects     = ["repo:${var.repository}:*"]
  })
}
