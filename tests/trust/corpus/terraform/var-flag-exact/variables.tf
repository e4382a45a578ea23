variable "repository" {
  type = string
}

variable "environments" {
  type = list(string)
}
