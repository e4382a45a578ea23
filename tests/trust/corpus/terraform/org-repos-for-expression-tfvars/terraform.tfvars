github_organisation = "acme"
github_repositories = ["shop", "infra"]
