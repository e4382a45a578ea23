variable "repositories" {
  type    = list(string)
  default = ["acme/shop", "acme/billing"]
}
