locals {
  oidc_issuer  = "token.actions.githubusercontent.com"
  provider_arn = "arn:aws:iam::${var.account_id}:oidc-provider/${local.oidc_issuer}"
  subjects     = formatlist("repo:%s:*", var.repositories)
}
