# Restore: bring the persisted paths back from S3 into $AGENT_HOME, then leave the marker that lets
# the backup run. Nothing there yet is a clean first start, and creates nothing (a path's kind comes
# from what the backup holds). Any S3 error fails the pod, so an agent never runs logged-out and
# never overwrites a good backup with an empty home. Init containers run again when the pod's
# sandbox is recreated while the emptyDir survives: a home with the marker is newer than the
# backup and is kept.
ROLE=restore
if [ -f "$MARKER" ]; then
  log "$AGENT_HOME was restored earlier in this pod: keeping it (it is newer than the backup)"
  exit 0
fi
write_filters
if ! seen=$(lease_now 2>"$HOME/error"); then
  log "cannot use the backup ($(where)): $(cat "$HOME/error")"
  log "check the bucket name, the endpoint, and the credentials (credentialsSecret or the pod's identity)"
  exit 1
fi
# Two passes: rclone cannot set the metadata of a symlink, so links come back in the second one,
# as links. Ownership is this user's; modes and times are the source's.
{ echo '- *.rclonelink'; cat "$FILTERS"; } > "$FILTERS.files"
copy_in() {
  rclone copy "$1" "$AGENT_HOME" --filter-from "$FILTERS.files" --metadata --create-empty-src-dirs \
    --metadata-set "uid=$(id -u)" --metadata-set "gid=$(id -g)" \
    && rclone copy "$1" "$AGENT_HOME" --filter-from "$FILTERS" --links --checksum
}
# persistence.s3.seedFromClaim: a home from before (the openab chart's PVC, mounted read-only at
# $SEED_DIR) is copied in once, into an EMPTY backup only: only the persisted paths, and never again
# once @seeded records it (after a logout the backup may be empty, and the old login must stay gone).
if [ -n "${SEED_DIR:-}" ]; then
  if ! held=$(run rclone lsf -R --files-only "$REMOTE" 2>"$HOME/error"); then
    log "cannot read the backup ($(where)): $(cat "$HOME/error")"
    exit 1
  fi
  if [ -n "$held" ]; then
    log "the backup holds files or was seeded before: not seeding from $SEED_DIR"
  # The seeded files go to the backup before the record and before the agent starts, so a pod that dies
  # right after never leaves a record over an empty backup. (`run` puts rclone in the background, where
  # its stdin is /dev/null: the record goes through a file.)
  elif copy_in "$SEED_DIR" \
       && run rclone copy "$AGENT_HOME" "$REMOTE" --filter-from "$FILTERS" --links --metadata --checksum \
       && printf 'seeded from %s by %s\n' "$SEED_DIR" "$POD_NAME" > "$HOME/seeded" \
       && run rclone copyto "$HOME/seeded" "$REMOTE/@seeded"; then
    log "seeded $AGENT_HOME and the backup from $SEED_DIR"
  else
    log "seeding from $SEED_DIR failed ($(where)); the agent does not start without its login"
    exit 1
  fi
fi
if copy_in "$REMOTE"; then
  # What the backup looked like when this pod read it: the backup container uploads only while
  # no other pod has written it since.
  printf 'lease %s\n' "$seen" > "$MARKER"
  log "restored into $AGENT_HOME"
  exit 0
fi
log "restore failed ($(where)); the agent does not start without its login"
exit 1
