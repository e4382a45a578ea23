variable "environments" {
  description = "environment name => repository"
  type        = map(string)
  default = {
    production = "acme/shop"
    staging    = "acme/shop"
  }
}
