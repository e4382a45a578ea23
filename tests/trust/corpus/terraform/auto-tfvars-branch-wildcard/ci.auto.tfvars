branch = "*"
