variable "github_repo" {
  description = "owner/name"
  type        = string
}
