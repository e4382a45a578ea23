#!/usr/bin/env bash
# Check that the AWS credentials in the environment work: a SigV4-signed STS GetCallerIdentity.
#
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...] AWS_REGION=... \
#   [STS_ENDPOINT=http://127.0.0.1:PORT] [EXPECTED_ACCOUNT=123456789012] \
#     bash examples/act/check-credentials.sh
#
# Works in act's Debian minbase job image, which has bash and coreutils but no curl, python or
# aws CLI: the request is signed in bash (HMAC-SHA256 built on sha256sum) and sent over bash's
# /dev/tcp, so the endpoint must be plain http (the local STS). For an https endpoint (real AWS)
# it uses the aws CLI (preinstalled on GitHub-hosted runners) instead.
# Prints the caller's ARN and account; never prints a credential.
#
# `--print-signature` (with SIGV4_DATE=YYYYmmddTHHMMSSZ) prints only the signature, so a test can
# compare it with botocore's signer.
set -euo pipefail

: "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID is not set: the action did not export credentials}"
: "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY is not set}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
[[ -n "$region" ]] || { echo "::error::AWS_REGION is not set" >&2; exit 1; }
endpoint="${STS_ENDPOINT:-https://sts.${region}.amazonaws.com}"

sha256_hex() { sha256sum | cut -c1-64; }
hex_to_escapes() { sed 's/../\\x&/g'; }                 # "a1b2" -> "\xa1\xb2" (for printf %b)
text_to_hex() { od -An -v -tx1 | tr -d ' \n'; }

# hmac_sha256_hex KEY_HEX MESSAGE: RFC 2104 with SHA-256 (64-byte blocks).
hmac_sha256_hex() {
  local key="$1" msg="$2" ipad="" opad="" i byte inner
  if ((${#key} > 128)); then
    key="$(printf '%b' "$(hex_to_escapes <<<"$key")" | sha256_hex)"
  fi
  while ((${#key} < 128)); do key+="00"; done
  for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key:i:2}))
    ipad+="$(printf '\\x%02x' $((byte ^ 0x36)))"
    opad+="$(printf '\\x%02x' $((byte ^ 0x5c)))"
  done
  inner="$({ printf '%b' "$ipad"; printf '%s' "$msg"; } | sha256_hex)"
  { printf '%b' "$opad"; printf '%b' "$(hex_to_escapes <<<"$inner")"; } | sha256_hex
}

if [[ "$endpoint" == https://* ]]; then
  if command -v aws >/dev/null 2>&1; then
    args=(sts get-caller-identity --region "$region" --output text
          --query '[Arn, Account]')
    [[ -z "${STS_ENDPOINT:-}" ]] || args+=(--endpoint-url "$STS_ENDPOINT")
    read -r arn account < <(aws "${args[@]}")
  else
    echo "::error::$endpoint is https: this check needs the aws CLI for it" >&2
    exit 1
  fi
else
  hostport="${endpoint#http://}"
  hostport="${hostport%%/*}"
  host="${hostport%%:*}"
  port=80
  [[ "$hostport" == *:* ]] && port="${hostport##*:}"
  amz_date="${SIGV4_DATE:-$(date -u +%Y%m%dT%H%M%SZ)}"
  day="${amz_date%%T*}"
  body='Action=GetCallerIdentity&Version=2011-06-15'
  ctype='application/x-www-form-urlencoded; charset=utf-8'
  headers="content-type:${ctype}"$'\n'"host:${hostport}"$'\n'"x-amz-date:${amz_date}"
  signed_headers='content-type;host;x-amz-date'
  if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then
    headers+=$'\n'"x-amz-security-token:${AWS_SESSION_TOKEN}"
    signed_headers+=';x-amz-security-token'
  fi
  payload_hash="$(printf '%s' "$body" | sha256_hex)"
  canonical="POST"$'\n'"/"$'\n'$'\n'"${headers}"$'\n'$'\n'"${signed_headers}"$'\n'"${payload_hash}"
  scope="${day}/${region}/sts/aws4_request"
  to_sign="AWS4-HMAC-SHA256"$'\n'"${amz_date}"$'\n'"${scope}"$'\n'"$(printf '%s' "$canonical" | sha256_hex)"
  k="$(printf '%s' "AWS4${AWS_SECRET_ACCESS_KEY}" | text_to_hex)"
  for part in "$day" "$region" sts aws4_request; do k="$(hmac_sha256_hex "$k" "$part")"; done
  signature="$(hmac_sha256_hex "$k" "$to_sign")"
  if [[ "${1:-}" == --print-signature ]]; then
    echo "$signature"
    exit 0
  fi
  auth="AWS4-HMAC-SHA256 Credential=${AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${signed_headers}, Signature=${signature}"
  exec 3<>"/dev/tcp/${host}/${port}"
  {
    printf 'POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\n' \
      "$hostport" "$ctype" "$amz_date"
    [[ -z "${AWS_SESSION_TOKEN:-}" ]] || printf 'X-Amz-Security-Token: %s\r\n' "$AWS_SESSION_TOKEN"
    printf 'Authorization: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
      "$auth" "${#body}" "$body"
  } >&3
  response="$(cat <&3)"
  exec 3>&-
  status="$(head -n 1 <<<"$response" | cut -d' ' -f2)"
  if [[ "$status" != 200 ]]; then
    code="$(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' <<<"$response" | head -n 1)"
    echo "::error::GetCallerIdentity failed: HTTP ${status} ${code}" >&2
    exit 1
  fi
  arn="$(sed -n 's:.*<Arn>\(.*\)</Arn>.*:\1:p' <<<"$response" | head -n 1)"
  account="$(sed -n 's:.*<Account>\(.*\)</Account>.*:\1:p' <<<"$response" | head -n 1)"
fi

[[ -n "$arn" && -n "$account" ]] || { echo "::error::GetCallerIdentity gave no identity" >&2; exit 1; }
if [[ -n "${EXPECTED_ACCOUNT:-}" && "$account" != "$EXPECTED_ACCOUNT" ]]; then
  echo "::error::credentials belong to account ${account}, expected ${EXPECTED_ACCOUNT}" >&2
  exit 1
fi
echo "GetCallerIdentity: ${arn} (account ${account})"
