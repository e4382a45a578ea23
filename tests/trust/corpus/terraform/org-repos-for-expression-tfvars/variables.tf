variable "enabled" {
  type    = bool
  default = true
}

variable "github_organisation" {
  description = "GitHub organisation name"
  type        = string
}

variable "github_repositories" {
  description = "Repositories of the organisation that may assume the role"
  type        = list(string)
}

variable "iam_role_name" {
  type    = string
  default = "github"
}
