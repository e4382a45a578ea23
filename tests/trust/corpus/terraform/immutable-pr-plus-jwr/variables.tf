variable "github_org" {
  type    = string
  default = "acme"
}

variable "github_owner_id" {
  type    = string
  default = "4242"
}

variable "plan_repos" {
  description = "repository name => repository id"
  type        = map(string)
  default = {
    infra = "987654"
  }
}

variable "plan_job_workflow_refs" {
  type    = list(string)
  default = ["acme/workflows/.github/workflows/plan.yml@refs/heads/main"]
}
