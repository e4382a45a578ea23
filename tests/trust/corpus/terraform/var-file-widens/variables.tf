variable "repository" {
  type    = string
  default = "acme/shop"
}

variable "environments" {
  type    = list(string)
  default = ["staging"]
}
