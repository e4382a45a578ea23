variable "subject_condition" {
  type    = string
  default = "StringEquals"
}

variable "subjects" {
  type    = list(string)
  default = ["repo:acme/shop:environment:production"]
}
