# Restore: bring the newest snapshot of the persisted paths back from S3 into $AGENT_HOME, then leave
# the marker that lets the backup run. No snapshot yet is a clean first start, and creates nothing (a
# path's kind comes from what the backup holds). Any S3 error fails the pod, so an agent never runs
# logged-out and never overwrites a good backup with an empty home. Init containers run again when the
# pod's sandbox is recreated while the emptyDir survives: a home with the marker is newer than the
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
fail() {
  log "$* ($(where)); the agent does not start without its login"
  exit 1
}
# The kubelet stops this container with SIGTERM while it waits (a PID 1 ignores a signal it has no
# trap for).
trap 'log "stopped while waiting"; exit 143' TERM INT
# A pod that still holds the backup is waited for: a pod being replaced (`kubectl delete pod` starts
# the replacement at once, beside it) uploads once more as it stops and then releases the lease; one
# that died keeps it until it is no longer valid. Reading before then would restore an older home,
# and this pod's backup would find the backup written since and never upload. While another pod runs
# (two replicas), this pod waits: two bots on one login would answer twice.
told=
while held_by_other "$seen"; do
  # shellcheck disable=SC2086 # five words: generation state pod epoch ttl
  set -- $seen
  if [ "$told" != "$1 $3" ]; then
    log "pod $3 holds the backup (lease $1, renewed ${age}s ago): waiting until it releases it after its last upload, or until ${ttl}s pass without a renewal"
    told="$1 $3"
  fi
  run sleep 2
  seen=$(lease_now 2>"$HOME/error") || fail "cannot read the lease: $(cat "$HOME/error")"
done
# From S3 into the stage, which starts empty. Two passes: rclone cannot set the metadata of a symlink
# it creates, so links come back in the second one, as links. Ownership is this user's; modes and
# times are the source's.
{ echo '- *.rclonelink'; cat "$FILTERS"; } > "$FILTERS.files"
fetch() {
  rm -rf "$STAGE" && mkdir "$STAGE" \
    && run rclone copy "$1" "$STAGE" --filter-from "$FILTERS.files" --metadata --create-empty-src-dirs \
      --metadata-set "uid=$(id -u)" --metadata-set "gid=$(id -g)" \
    && run rclone copy "$1" "$STAGE" --filter-from "$FILTERS" --links --checksum
}
# From a folder of this pod (the stage, or the claim to seed from) into the home, in one pass.
place() {
  rclone copy "$1" "$AGENT_HOME" --filter-from "$FILTERS" --links --metadata --create-empty-src-dirs \
    --metadata-set "uid=$(id -u)" --metadata-set "gid=$(id -g)"
}
# persistence.s3.seedFromClaim: a home from before (the openab chart's PVC, mounted read-only at
# $SEED_DIR) is copied in once, into an EMPTY backup only: only the persisted paths, and never again
# once @seeded records it (after a logout the backup may be empty, and the old login must stay gone).
seeded=
if [ -n "${SEED_DIR:-}" ]; then
  held=$(run rclone lsf -R --files-only "$REMOTE" 2>"$HOME/error") || fail "cannot read the backup: $(cat "$HOME/error")"
  if [ -n "$held" ]; then
    log "the backup holds files or was seeded before: not seeding from $SEED_DIR"
  # The seeded files go to the backup (at the prefix itself, which a restore reads while no snapshot
  # exists) before the record and before the agent starts, so a pod that dies right after never leaves
  # a record over an empty backup. (`run` puts rclone in the background, where its stdin is /dev/null:
  # the record goes through a file.)
  elif place "$SEED_DIR" \
       && run rclone copy "$AGENT_HOME" "$REMOTE" --filter-from "$FILTERS" --links --metadata --checksum \
       && printf 'seeded from %s by %s\n' "$SEED_DIR" "$POD_NAME" > "$HOME/seeded" \
       && run rclone copyto "$HOME/seeded" "$REMOTE/@seeded"; then
    log "seeded $AGENT_HOME and the backup from $SEED_DIR"
    seeded=1
  else
    fail "seeding from $SEED_DIR failed"
  fi
fi
# The newest snapshot as "<number> <slot>", or nothing when there is none.
newest_snapshot() {
  names=$(run rclone lsf --files-only "$SNAPSHOTS") || return 1
  newest=$(printf '%s\n' "$names" | sort | tail -n 1)
  [ -n "$newest" ] || return 0
  slot=$(run rclone cat "$SNAPSHOTS/$newest") || return 1
  printf '%s %s\n' "$newest" "${slot%% *}"
}
# The newest snapshot counts only if it is still there once read: the backup frees a snapshot's slot
# (deletes the snapshot) before it writes there again, so a slot read while its snapshot stayed was
# not written meanwhile.
tries=0
while [ -z "$seeded" ]; do
  snapshot=$(newest_snapshot 2>"$HOME/error") || fail "cannot read the snapshots: $(cat "$HOME/error")"
  if [ -z "$snapshot" ]; then
    # A first start, or a backup from before snapshots: the persisted paths at the prefix itself.
    fetch "$REMOTE" || fail "restore failed"
    break
  fi
  number=${snapshot% *}
  fetch "$SLOTS/${snapshot#* }" || fail "restore of snapshot $number failed"
  names=$(run rclone lsf --files-only "$SNAPSHOTS" 2>"$HOME/error") || fail "cannot read the snapshots: $(cat "$HOME/error")"
  if printf '%s\n' "$names" | grep -qx "$number"; then
    # What the backup compares the home with before it uploads anything.
    manifest "$HOME/published" || fail "cannot list $STAGE"
    log "snapshot $number read"
    break
  fi
  tries=$((tries + 1))
  [ "$tries" -lt 5 ] || fail "the backup kept replacing the snapshot being read"
  log "snapshot $number was removed while it was read; reading the newest again"
done
[ -n "$seeded" ] || place "$STAGE" || fail "restore into $AGENT_HOME failed"
# What the backup looked like when this pod read it: the backup container uploads only while no other
# pod has written it since.
printf 'lease %s\n' "$seen" > "$MARKER"
log "restored into $AGENT_HOME"
