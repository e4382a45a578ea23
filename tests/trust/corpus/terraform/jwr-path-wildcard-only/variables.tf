variable "github_repo" {
  type    = string
  default = "acme/capstone"
}
