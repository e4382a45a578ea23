locals {
  branch = "main"
  subjects = [
    "repo:acme/rewind:ref:refs/heads/${local.branch}",
    "repo:acme/rewind:pull_request",
  ]
}
