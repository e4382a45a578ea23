repository   = "acme/*"
environments = ["production"]
