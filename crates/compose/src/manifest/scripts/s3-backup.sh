# Backup: a native sidecar. Every SYNC_INTERVAL seconds, and once more on SIGTERM (which Kubernetes
# sends to a sidecar after the agent has stopped), it copies the persisted paths into its stage and, if
# they changed, uploads a snapshot: the stage goes into a free slot, is checked there, and only then
# is published as @snap/<next number> with one conditional put. A restore reads the newest snapshot,
# so a failed or interrupted upload changes nothing it gets. Changes are found by content
# (checksums); links are stored as links, never followed; modes, times and empty folders are kept.
# Kept: the three newest snapshots and the newest of each of the last KEEP_DAYS days.
# It uploads only after a restore in this pod (the marker), and only while it holds the lease: the
# first pod whose restore saw the backup as it still is takes the next lease generation with a
# conditional put (If-None-Match); any other pod never uploads and says what it saw.
# FINAL_SECONDS bounds the final upload, inside the pod's grace period.
ROLE=backup
HELD="$HOME/lease-held"
FENCED="$HOME/fenced"
# The longest sync so far, in seconds: a lease is renewed once per interval plus one sync, and stays
# valid for three of those, so a slow upload never makes it look abandoned.
longest=0
fence() {
  printf '%s\n' "$*" > "$FENCED"
  log "$*: this pod will not upload"
}
write_lease() {
  gen=$1 state=$2
  shift 2
  printf '%s %s %s %s\n' "$state" "$POD_NAME" "$(date +%s)" "$((3 * (SYNC_INTERVAL + longest)))" > "$HOME/lease"
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
    if held_by_other "$now"; then
      # shellcheck disable=SC2086 # five words: generation state pod epoch ttl
      set -- $now
      log "pod $3 holds the backup (lease $1, renewed ${age}s ago); waiting until it stops or ${ttl}s pass"
      return 1
    fi
    next=$(($(printf '%s' "${now%% *}" | sed 's/^0*//') + 1))
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
# The SQLite databases among the persisted files that have a -wal or -shm beside them, into
# $HOME/sqlite, and the stage's filter rules without them (copy_sqlite copies those).
find_sqlite() {
  run rclone lsf -R --files-only --links --filter-from "$FILTERS" "$AGENT_HOME" > "$HOME/listing" || return 1
  sed -n 's/-wal$//p; s/-shm$//p' "$HOME/listing" | sort -u | while IFS= read -r db; do
    file=$AGENT_HOME/$db
    if [ -f "$file" ] && [ ! -L "$file" ] && [ "$(head -c 15 "$file")" = "SQLite format 3" ]; then
      printf '%s\n' "$db"
    fi
  done > "$HOME/sqlite"
  sed 's/[][\\*?{}]/\\&/g' "$HOME/sqlite" | while IFS= read -r rule; do
    printf -- '- /%s\n- /%s-wal\n- /%s-shm\n' "$rule" "$rule" "$rule"
  done > "$HOME/filters.stage"
  cat "$FILTERS" >> "$HOME/filters.stage"
}
wal_header() { od -An -tx1 -N32 "$1" 2>/dev/null | tr -d ' \n'; }
# A SQLite database in WAL mode lives in two files: the database, written only when a checkpoint
# copies pages back from the WAL, and the WAL, appended to, and restarted (a new salt in its 32-byte
# header) once a checkpoint has copied all of it. A copy of the database and then of the WAL is a
# consistent pair when the WAL was not restarted in between (the same header before and after): every
# page a checkpoint wrote into the database meanwhile is also in the copied WAL, which SQLite replays
# over it when it opens them, up to the WAL's last whole transaction. The -shm index is rebuilt by
# SQLite. Without a WAL, the database must be the same after the copy.
copy_sqlite() {
  db=$AGENT_HOME/$1 pair=$HOME/pair
  tries=0
  while :; do
    rm -rf "$pair" && mkdir "$pair" || return 1
    header=$(wal_header "$db-wal")
    if cp -P -p "$db" "$pair/db" 2>/dev/null; then
      if [ -n "$header" ]; then
        cp -P -p "$db-wal" "$pair/wal" 2>/dev/null && [ "$(wal_header "$pair/wal")" = "$header" ] && break
      elif [ ! -e "$db-wal" ] && cmp -s "$db" "$pair/db"; then
        break
      fi
    fi
    tries=$((tries + 1))
    if [ "$tries" = 100 ]; then
      log "$1 kept changing while it was copied (100 tries)"
      return 1
    fi
  done
  mv -f "$pair/db" "$STAGE/$1" || return 1
  if [ -e "$pair/wal" ]; then mv -f "$pair/wal" "$STAGE/$1-wal"; else rm -f "$STAGE/$1-wal"; fi
}
# One file of the home into the stage: copied, then taken only if its size, times and inode did not
# change meanwhile and the copy still equals it; else copied again at once.
stable_copy() {
  src=$AGENT_HOME/$1 copy=$HOME/copy
  tries=0
  while :; do
    if [ ! -e "$src" ] && [ ! -L "$src" ]; then rm -f "$STAGE/$1"; return 0; fi
    before=$(stat -c '%s %Y %Z %i' "$src" 2>/dev/null)
    # A writer that truncates and rewrites (Node's writeFileSync) leaves the file empty for a moment:
    # a copy that came out empty where the stage's was not counts only if the file stays empty.
    if cp -P -p "$src" "$copy" 2>/dev/null && { [ -s "$copy" ] || [ ! -s "$STAGE/$1" ] || sleep 0.1; } \
       && [ "$(stat -c '%s %Y %Z %i' "$src" 2>/dev/null)" = "$before" ] && cmp -s "$src" "$copy"; then
      mkdir -p "$(dirname "$STAGE/$1")" && mv -f "$copy" "$STAGE/$1"
      return
    fi
    tries=$((tries + 1))
    if [ "$tries" = 100 ]; then
      log "$1 kept changing while it was copied (100 tries)"
      return 1
    fi
  done
}
# The persisted paths into $STAGE, this container's own folder, so that nothing changes under the
# upload. rclone copies what differs; a check by content right after it finds what changed while it
# was copied, and stable_copy takes those again, one at a time. The SQLite databases in WAL mode are
# copied apart (copy_sqlite).
stage() {
  find_sqlite || return 1
  run rclone sync "$AGENT_HOME" "$STAGE" --filter-from "$HOME/filters.stage" --checksum --links --metadata \
    --create-empty-src-dirs --retries 1 2>"$HOME/stage-errors"
  if ! run rclone check "$AGENT_HOME" "$STAGE" --filter-from "$HOME/filters.stage" --links --retries 1 \
       --combined "$HOME/combined" 2>"$HOME/stage-errors"; then
    if ! grep -q '^[-*+!] ' "$HOME/combined"; then
      log "cannot compare the home with its copy: $(cat "$HOME/stage-errors")"
      return 1
    fi
    # "- path": gone from the home; "* path": differs; "+ path": not copied yet; "! path": unreadable.
    while IFS= read -r line; do
      case "$line" in
        *.rclonelink) ;;
        '- '*) rm -f "$STAGE/${line#- }" ;;
        [*+!]' '*) [ -d "$AGENT_HOME/${line#? }" ] || stable_copy "${line#? }" || return 1 ;;
      esac
    done < "$HOME/combined"
  fi
  while IFS= read -r db; do
    copy_sqlite "$db" || return 1
  done < "$HOME/sqlite"
}
# What snapshot NUMBER holds ("<slot> <pod> <epoch>"), read once and kept in $HOME/snapshots.d.
about() {
  [ -f "$HOME/snapshots.d/$1" ] || run rclone cat "$SNAPSHOTS/$1" > "$HOME/snapshots.d/$1" \
    || { rm -f "$HOME/snapshots.d/$1"; return 1; }
  cat "$HOME/snapshots.d/$1"
}
# "<number> <slot> <pod> <epoch>" per snapshot in $HOME/snapshots, newest first.
describe() {
  sort -r "$HOME/snapshots" | while IFS= read -r number; do
    line=$(about "$number") || exit 1
    printf '%s %s\n' "$number" "$line"
  done
}
# Whether a snapshot in $described uses slot $1.
in_use() { printf '%s\n' "$described" | cut -d' ' -f2 | grep -qx "$1"; }
upload() {
  mkdir -p "$HOME/snapshots.d"
  run rclone lsf --files-only "$SNAPSHOTS" > "$HOME/snapshots" || return 1
  described=$(describe) || return 1
  # The lowest slot no snapshot uses: a restore reading it would have seen its snapshot deleted.
  slot=0
  while in_use "$slot"; do slot=$((slot + 1)); done
  # Named g<lease generation>-<number>: a restore takes the last name in sort order, so a snapshot that
  # a pod fenced off meanwhile still publishes (it paused after its lease check: a partition, SIGSTOP)
  # sorts below every one of the pod that took the lease over. Names from before are bare numbers,
  # which sort below both.
  newest=$(sed 's/^g[0-9]*-//' "$HOME/snapshots" | sort -r | head -n 1 | sed 's/^0*//')
  number="g$(cat "$HELD")-$(printf '%012d' "$((${newest:-0} + 1))")"
  run rclone sync "$STAGE" "$SLOTS/$slot" --checksum --links --metadata --create-empty-src-dirs \
    --s3-directory-markers --fast-list || return 1
  run rclone check "$STAGE" "$SLOTS/$slot" --links --fast-list --quiet || return 1
  printf '%s %s %s\n' "$slot" "$POD_NAME" "$(date +%s)" > "$HOME/snapshots.d/$number"
  if ! run rclone copyto "$HOME/snapshots.d/$number" "$SNAPSHOTS/$number" --header-upload "If-None-Match: *" \
       2>"$HOME/error"; then
    rm -f "$HOME/snapshots.d/$number"
    case "$(cat "$HOME/error")" in
      *PreconditionFailed*|*412*) fence "another pod published snapshot $number first" ;;
      *) log "cannot publish snapshot $number ($(where)): $(cat "$HOME/error")" ;;
    esac
    return 1
  fi
  log "snapshot $number published (slot $slot)"
  echo "$number" >> "$HOME/snapshots"
}
# Deletes the snapshots retention no longer keeps, which frees their slots for the next uploads; once
# a day, purges the slots no snapshot uses but the one the next upload takes.
pruned=
prune() {
  cutoff=$(($(date +%s) - KEEP_DAYS * 86400))
  described=$(describe) || return 1
  for number in $(printf '%s\n' "$described" | awk -v cutoff="$cutoff" '
      { day = int($4 / 86400) }
      NR <= 3 || ($4 >= cutoff && !(day in kept)) { kept[day] = 1; next }
      { print $1 }'); do
    run rclone deletefile "$SNAPSHOTS/$number" || return 1
    rm -f "$HOME/snapshots.d/$number"
    log "snapshot $number removed (retention)"
  done
  today=$(date -u +%Y-%m-%d)
  [ "$pruned" != "$today" ] || return 0
  run rclone lsf --files-only "$SNAPSHOTS" > "$HOME/snapshots" || return 1
  described=$(describe) || return 1
  folders=$(run rclone lsf --dirs-only "$SLOTS") || return 1
  spare=
  for slot in $(printf '%s\n' "$folders" | tr -d / | sort -n); do
    if in_use "$slot"; then continue; fi
    if [ -z "$spare" ]; then spare=$slot; continue; fi
    run rclone purge "$SLOTS/$slot" || return 1
  done
  pruned=$today
}
sync_all() {
  if [ ! -f "$MARKER" ]; then
    log "no restore marker in $AGENT_HOME: refusing to upload over the backup"
    return 1
  fi
  hold_lease || return 1
  stage || { log "no snapshot this time: the home did not hold still"; return 1; }
  manifest "$HOME/staged" || return 1
  if ! cmp -s "$HOME/staged" "$HOME/published"; then
    upload || { log "upload failed ($(where)); restores still get the last published snapshot"; return 1; }
    mv "$HOME/staged" "$HOME/published"
    prune || log "could not remove old snapshots ($(where))"
  fi
}
write_filters
[ -f "$HOME/published" ] || : > "$HOME/published"
trap 'stopping=1' TERM INT
while [ "$stopping" = 0 ]; do
  sleep "$SYNC_INTERVAL" &
  child=$!
  wait "$child"
  [ "$stopping" = 0 ] || break
  started=$(date +%s)
  sync_all || true
  took=$(($(date +%s) - started))
  [ "$took" -le "$longest" ] || longest=$took
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
