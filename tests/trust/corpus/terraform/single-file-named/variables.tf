variable "github_org" {
  type    = string
  default = "acme"
}
