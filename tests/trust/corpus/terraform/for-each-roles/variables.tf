variable "repository" {
  type    = string
  default = "acme/infra"
}

variable "roles" {
  type = map(object({ subject_suffix = string }))
  default = {
    apply = { subject_suffix = "environment:production" }
    plan  = { subject_suffix = "pull_request" }
  }
}
