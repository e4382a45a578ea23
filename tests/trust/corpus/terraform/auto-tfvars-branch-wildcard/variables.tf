variable "branch" {
  type    = string
  default = "main"
}
