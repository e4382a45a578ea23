variable "github_org" {
  type    = string
  default = "acme"
}

variable "github_thumbprint" {
  type    = string
  default = "6938fd4d98bab03faadb97b34396831e3780aea1"
}

variable "github_token_url" {
  type    = string
  default = "https://token.actions.githubusercontent.com"
}
