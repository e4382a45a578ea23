variable "github_org" {
  type = string
}

variable "github_repo" {
  type = string
}
