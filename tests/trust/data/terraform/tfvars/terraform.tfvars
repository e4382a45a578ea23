allowed_subjects = ["repo:octo-org/*"]
