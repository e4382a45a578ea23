subject_conditions = {
  StringLike = ["repo:acme/*"]
}
