locals {
  org = var.github_org
}
