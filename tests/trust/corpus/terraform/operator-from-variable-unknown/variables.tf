variable "subject_condition" {
  description = "StringEquals or StringLike"
  type        = string
}

variable "subjects" {
  type    = list(string)
  default = ["repo:acme/shop:*"]
}
