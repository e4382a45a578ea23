variable "subject_conditions" {
  type    = map(list(string))
  default = {}
}
