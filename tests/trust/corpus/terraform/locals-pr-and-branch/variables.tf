variable "github_repo" {
  type = string
}

variable "deploy_branch" {
  type    = string
  default = "main"
}
