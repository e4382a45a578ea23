variable "create" {
  type    = bool
  default = true
}
variable "name" {
  type    = string
  default = null
}
variable "provider_url" {
  type    = string
  default = "https://token.actions.githubusercontent.com"
}
variable "provider_arn" {
  type = string
}
variable "audience" {
  type    = list(string)
  default = ["sts.amazonaws.com"]
}
variable "subjects" {
  type    = list(string)
  default = []
}
