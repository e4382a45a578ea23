name     = "deploy"
subjects = ["acme/*"]
