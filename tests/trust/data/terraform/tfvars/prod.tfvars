allowed_subjects = ["repo:octo-org/app:environment:prod"]
