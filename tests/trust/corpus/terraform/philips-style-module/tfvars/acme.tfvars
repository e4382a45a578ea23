repo                        = "acme/shop"
openid_connect_provider_arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
default_conditions          = ["allow_environment", "deny_pull_request"]
github_environments         = ["prod*"]
