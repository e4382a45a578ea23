variable "subject_conditions" {
  description = "Operator => subjects"
  type        = map(list(string))
  default = {
    StringEquals = ["repo:acme/shop:ref:refs/heads/main"]
  }
}
