variable "extra_conditions" {
  type = any
  default = {
    StringLike = {
      "token.actions.githubusercontent.com:sub" = "repo:acme/shop:*"
    }
  }
}
