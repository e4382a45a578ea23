resource "aws_iam_role" "deploy" {
  name               = "deploy"
  assume_role_policy = file("${path.module}/policies/github-trust.json")
}
