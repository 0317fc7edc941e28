# Restore: bring every persisted path back from S3 into $HOME, then leave the marker that lets
# the backup run. Nothing there yet is a clean first start; any S3 error fails the pod, so an
# agent never runs logged-out and never overwrites a good backup with an empty home.
ROLE=restore
rm -f "$MARKER"
if ! out=$(aws s3api head-bucket --bucket "$S3_BUCKET" 2>&1); then
  log "cannot use the backup ($(where)): $out"
  log "check the bucket name, the endpoint, and the credentials (credentialsSecret or the pod's identity)"
  exit 1
fi
failed=0
while read -r kind path rest; do
  [ -n "$kind" ] || continue
  if [ "$kind" != d ]; then
    if out=$(aws s3api head-object --bucket "$S3_BUCKET" --key "$S3_PREFIX/$path" 2>&1); then
      mkdir -p "$(dirname "$HOME/$path")"
      aws s3 cp --only-show-errors "$REMOTE/$path" "$HOME/$path" || failed=1
      continue
    fi
    case "$out" in
      *404*|*"Not Found"*) ;;
      *) log "cannot read $path ($(where)): $out"; failed=1; continue ;;
    esac
    [ "$kind" = f ] && { log "no backup of $path yet"; continue; }
  fi
  mkdir -p "$HOME/$path"
  # shellcheck disable=SC2046 # excludes() prints options and patterns in safe characters only
  aws s3 sync --only-show-errors $(excludes "$kind" "$path" $rest) "$REMOTE/$path/" "$HOME/$path/" || failed=1
done <<PATHS
$PERSIST_PATHS
PATHS
if [ "$failed" != 0 ]; then
  log "restore failed ($(where)); the agent does not start without its login"
  exit 1
fi
touch "$MARKER"
log "restored into $HOME"
