variable "github_org" {
  type    = string
  default = "acme"
}

variable "github_repo" {
  type    = string
  default = "workshop"
}
