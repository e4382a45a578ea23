locals {
  github_thumbprint = "6938fd4d98bab03faadb97b34396831e3780aea1"
}
