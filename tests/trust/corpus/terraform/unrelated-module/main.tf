resource "aws_s3_bucket" "assets" {
  bucket = "acme-assets"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "resize" {
  name               = "resize"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}
