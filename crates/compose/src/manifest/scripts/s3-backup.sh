# Backup: a native sidecar. Uploads the persisted paths every SYNC_INTERVAL seconds and once more
# on SIGTERM, which Kubernetes sends to a sidecar after the agent has stopped. It never uploads
# without the restore marker (a home that was not restored must not replace the backup), and it
# never deletes remote objects (a half-written home must not erase the backup).
ROLE=backup
sync_all() {
  if [ ! -f "$MARKER" ]; then
    log "no restore marker in $HOME: refusing to upload over the backup"
    return 1
  fi
  status=0
  while read -r kind path rest; do
    [ -n "$kind" ] || continue
    if [ -f "$HOME/$path" ] && [ "$kind" != d ]; then
      aws s3 cp --only-show-errors "$HOME/$path" "$REMOTE/$path" || status=1
    elif [ -d "$HOME/$path" ] && [ "$kind" != f ]; then
      # shellcheck disable=SC2046 # options and patterns in safe characters only
      aws s3 sync --only-show-errors $(excludes "$kind" "$path" $rest) "$HOME/$path/" "$REMOTE/$path/" || status=1
    fi
  done <<PATHS
$PERSIST_PATHS
PATHS
  [ "$status" = 0 ] || log "upload failed ($(where))"
  return $status
}
stopping=0
sleeper=
trap 'stopping=1' TERM INT
while [ "$stopping" = 0 ]; do
  sleep "${SYNC_INTERVAL:-300}" &
  sleeper=$!
  wait "$sleeper" || true
  [ "$stopping" = 0 ] || break
  sync_all || true
done
[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true
if sync_all; then log "final upload done"; exit 0; fi
log "final upload failed"
exit 1
