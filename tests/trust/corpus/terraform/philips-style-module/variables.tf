variable "repo" {
  description = "GitHub repository (owner/name) allowed to assume the role"
  type        = string
  default     = null
}

variable "openid_connect_provider_arn" {
  description = "ARN of the GitHub OIDC provider"
  type        = string
}

variable "github_oidc_issuer" {
  type    = string
  default = "token.actions.githubusercontent.com"
}

variable "repo_mainline_branch" {
  type    = string
  default = "main"
}

variable "default_conditions" {
  type    = list(string)
  default = ["allow_main", "deny_pull_request"]
}

variable "github_environments" {
  type    = list(string)
  default = []
}

variable "conditions" {
  type = list(object({
    test     = string
    variable = string
    values   = list(string)
  }))
  default = []
}

variable "account_ids" {
  type    = list(string)
  default = []
}
