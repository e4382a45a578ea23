variable "github_repositories" {
  description = "owner/repo (any ref) or owner/repo:ref:..."
  type        = list(string)
  default     = ["acme/app", "acme/infra:ref:refs/heads/main"]
}
