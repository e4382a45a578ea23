locals {
  repos = ["octo-org/app", "octo-org/web"]
}
resource "aws_iam_role" "r" {
  name = "r"
  assume_role_policy = templatefile("${path.module}/trust.json.tpl", { repos = local.repos, account = "123456789012" })
}
