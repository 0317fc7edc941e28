# Shared by restore and backup. Inputs (environment, never spliced into this text):
#   HOME            the agent's home (an emptyDir shared with the agent container)
#   S3_BUCKET       bucket name, checked by compose against S3's naming rules
#   S3_PREFIX       key prefix, checked by compose (relative, no "..", safe characters)
#   PERSIST_PATHS   one line per path: "<kind> <path> [<excluded subpath>...]", kind f, d or ?,
#                   every field in [A-Za-z0-9._/-] (checked by compose), so splitting on spaces is safe
#   AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: as the aws CLI reads them
set -u
# Exclude patterns hold '*': no pathname expansion anywhere.
set -f
MARKER="$HOME/.agent-broker-restored"
REMOTE="s3://$S3_BUCKET/$S3_PREFIX"
log() { printf '%s: %s\n' "$ROLE" "$*" >&2; }
where() { printf 'bucket %s, prefix %s, endpoint %s' "$S3_BUCKET" "$S3_PREFIX" "${AWS_ENDPOINT_URL:-AWS default}"; }
# MinIO and other S3 servers need path-style addressing, which only a config file can ask for.
if [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -z "${AWS_CONFIG_FILE:-}" ]; then
  AWS_CONFIG_FILE=$(mktemp)
  printf '[default]\ns3 =\n    addressing_style = path\n' > "$AWS_CONFIG_FILE"
  export AWS_CONFIG_FILE
fi
# Exclude options for the disposable subpaths of one directory line.
excludes() {
  shift 2
  for sub in "$@"; do printf -- '--exclude\n%s/*\n' "$sub"; done
}
