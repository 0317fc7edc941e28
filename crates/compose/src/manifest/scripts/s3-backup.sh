# Backup: a native sidecar. Mirrors the persisted paths to S3 every SYNC_INTERVAL seconds and once
# more on SIGTERM, which Kubernetes sends to a sidecar after the agent has stopped. Changes are found
# by content (checksums); links are stored as links, never followed; modes, times and empty folders
# are kept. What a sync deletes or replaces moves to @trash/<day>/<time>/, kept TRASH_DAYS days.
# It uploads only after a restore in this pod (the marker), and only while it holds the lease: the
# first pod whose restore saw the backup as it still is takes the next lease generation with a
# conditional put (If-None-Match); any other pod never uploads and says what it saw.
# FINAL_SECONDS bounds the final upload, inside the pod's grace period.
ROLE=backup
HELD="$HOME/lease-held"
FENCED="$HOME/fenced"
LEASE_TTL=$((3 * SYNC_INTERVAL))
fence() {
  printf '%s\n' "$*" > "$FENCED"
  log "$*: this pod will not upload"
}
write_lease() {
  gen=$1 state=$2
  shift 2
  printf '%s %s %s\n' "$state" "$POD_NAME" "$(date +%s)" > "$HOME/lease"
  run rclone copyto "$HOME/lease" "$LEASES/$gen" "$@" 2>"$HOME/error"
}
hold_lease() {
  if [ -f "$FENCED" ]; then log "not uploading: $(cat "$FENCED")"; return 1; fi
  now=$(lease_now 2>"$HOME/error") || { log "cannot read the lease ($(where)): $(cat "$HOME/error")"; return 1; }
  if [ -f "$HELD" ]; then
    mine=$(cat "$HELD")
    case "$now" in
      "$mine "*) write_lease "$mine" held || { log "cannot renew the lease: $(cat "$HOME/error")"; return 1; } ;;
      *) fence "another pod took the backup over (lease now: $now)"; return 1 ;;
    esac
    return 0
  fi
  seen=$(sed -n 's/^lease //p' "$MARKER")
  if [ "$now" != "$seen" ]; then
    fence "another pod wrote the backup after this pod restored it (lease then: $seen; now: $now)"
    return 1
  fi
  next=1
  if [ "$now" != none ]; then
    # shellcheck disable=SC2086 # four words: generation state pod epoch
    set -- $now
    case "${4:-}" in ''|*[!0-9]*) age=$LEASE_TTL ;; *) age=$(($(date +%s) - $4)) ;; esac
    if [ "$2" = held ] && [ "$3" != "$POD_NAME" ] && [ "$age" -lt "$LEASE_TTL" ]; then
      log "pod $3 holds the backup (lease $1, renewed ${age}s ago); waiting until it stops or ${LEASE_TTL}s pass"
      return 1
    fi
    next=$(($(printf '%s' "$1" | sed 's/^0*//') + 1))
  fi
  next=$(printf '%012d' "$next")
  if ! write_lease "$next" held --header-upload "If-None-Match: *"; then
    case "$(cat "$HOME/error")" in
      *PreconditionFailed*|*412*) fence "another pod took the backup first (lease $next exists)" ;;
      *) log "cannot write the lease ($(where)): $(cat "$HOME/error")" ;;
    esac
    return 1
  fi
  echo "$next" > "$HELD"
  log "holding the backup (lease $next)"
}
pruned=
prune_trash() {
  today=$(date -u +%Y-%m-%d)
  [ "$pruned" != "$today" ] || return 0
  cutoff=$(date -u -d "@$(($(date +%s) - TRASH_DAYS * 86400))" +%Y-%m-%d)
  days=$(run rclone lsf --dirs-only "$REMOTE/@trash") || return 1
  for day in $days; do
    day=${day%/}
    case "$day" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) continue ;; esac
    if expr "$day" \< "$cutoff" >/dev/null; then
      run rclone purge "$REMOTE/@trash/$day" && log "removed the trash of $day (older than $TRASH_DAYS days)"
    fi
  done
  pruned=$today
}
# One upload: mirror the home, then check that the backup still equals it. Files copied one by one
# while they change (a SQLite database and its WAL) are a set that never existed on disk; only a
# sync that the check confirms counts, so the backup is a state the home really had.
upload() {
  rm -f "$HOME/changed"
  run rclone sync "$AGENT_HOME" "$REMOTE" --filter-from "$FILTERS" --checksum --links --metadata \
    --create-empty-src-dirs --s3-directory-markers --backup-dir "$REMOTE/@trash/$(date -u +%Y-%m-%d/%H%M%S)" \
    2>"$HOME/sync-errors" || { is_changing "$HOME/sync-errors"; return 1; }
  run rclone check "$AGENT_HOME" "$REMOTE" --filter-from "$FILTERS" --links --quiet 2>"$HOME/sync-errors" \
    || { : > "$HOME/changed"; return 1; }
}
# Whether an upload failed only because files changed under it (rclone says so); else its errors.
is_changing() {
  if grep -q 'source file is being updated' "$1"; then
    : > "$HOME/changed"
  else
    cat "$1" >&2
  fi
}
sync_all() {
  if [ ! -f "$MARKER" ]; then
    log "no restore marker in $AGENT_HOME: refusing to upload over the backup"
    return 1
  fi
  hold_lease || return 1
  attempt=1
  until upload; do
    # A periodic sync cut short by SIGTERM is not a failure: the final upload follows.
    if [ "$stopping" = 1 ] && [ -z "$deadline" ]; then return 1; fi
    if [ "$attempt" = 3 ] || [ ! -f "$HOME/changed" ]; then
      log "upload failed ($(where))"
      return 1
    fi
    attempt=$((attempt + 1))
    log "files changed while they were uploaded; uploading again (attempt $attempt)"
  done
  prune_trash || log "could not remove old trash ($(where))"
}
write_filters
trap 'stopping=1' TERM INT
while [ "$stopping" = 0 ]; do
  sleep "$SYNC_INTERVAL" &
  child=$!
  wait "$child"
  [ "$stopping" = 0 ] || break
  sync_all || true
done
kill "$child" 2>/dev/null
deadline=$(($(date +%s) + FINAL_SECONDS))
if sync_all; then
  write_lease "$(cat "$HELD")" released || log "cannot release the lease: $(cat "$HOME/error")"
  log "final upload done"
  exit 0
fi
log "final upload failed"
exit 1
