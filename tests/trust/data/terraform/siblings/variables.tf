variable "account_id" {
  type    = string
  default = "123456789012"
}

variable "repositories" {
  type    = list(string)
  default = ["octo-org/app"]
}
