name     = "deploy"
subjects = ["repo:acme/shop:environment:production"]
