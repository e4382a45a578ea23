variable "enabled" {
  description = "Create the role"
  type        = bool
  default     = true
}

variable "name" {
  description = "Role name"
  type        = string
  default     = null
}

variable "issuer_url" {
  description = "The issuer (iss claim) of the identity provider"
  type        = string
  default     = "token.actions.githubusercontent.com"
}

variable "audience" {
  type    = string
  default = "sts.amazonaws.com"
}

variable "subjects" {
  description = "Subjects allowed to assume the role, with or without the repo: prefix"
  type        = list(string)
  default     = []
}

variable "max_session_duration" {
  type    = number
  default = 3600
}
