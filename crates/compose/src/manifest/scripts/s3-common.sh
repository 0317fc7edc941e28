# Shared by restore and backup, which run rclone's image. Inputs (environment, never spliced into
# this text):
#   AGENT_HOME      the agent's home (an emptyDir shared with the agent container)
#   HOME            this container's own folder (an emptyDir the agent container does not mount):
#                   rclone's and the AWS SDK's config, the filter rules, the lease this pod holds, and
#                   the stage: the copy of the persisted paths that is uploaded, or that was restored
#   S3_BUCKET       bucket name, checked by compose against S3's naming rules
#   S3_PREFIX       key prefix, checked by compose (relative, no "..", safe characters)
#   PERSIST_PATHS   one line per path: "<kind> <path> [<excluded subpath>...]", kind f, d or ? (unknown),
#                   every field in [A-Za-z0-9._/-] (checked by compose), so splitting on spaces is safe
#   POD_NAME        this pod's name (the downward API), written into the lease
#   SEED_DIR        restore only, with seedFromClaim: the old home's claim, mounted read-only
#   RCLONE_S3_*     provider, region, endpoint and server-side encryption, as rclone reads them
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (credentialsSecret) or the pod's identity (IRSA, Pod Identity)
# Layout under the prefix: @snap/g<lease generation>-<number> (a snapshot, published by one conditional
# put once its files are uploaded and checked; holds "<slot> <pod> <epoch>"; the newest is the last
# name in sort order); @slot/<slot>/<path> (a snapshot's files as in
# $AGENT_HOME, in a folder no published snapshot uses while they are written); @lease/<generation>
# (who may upload: "<held|released> <pod> <epoch> <seconds it stays valid unrenewed>"); @seeded (a
# seeding happened). Backups from before snapshots: <path> at the prefix itself, read while there is
# no snapshot. '@' is never in a persisted path.
set -u
# Paths and rules hold no glob on purpose: no pathname expansion anywhere.
set -f
# Whatever is restored or written here is private to the agent's user.
umask 077
MARKER="$AGENT_HOME/.agent-broker-restored"
REMOTE=":s3:$S3_BUCKET/$S3_PREFIX"
LEASES="$REMOTE/@lease"
FILTERS="$HOME/filters"
STAGE="$HOME/stage"
SNAPSHOTS="$REMOTE/@snap"
SLOTS="$REMOTE/@slot"
# Nothing the agent can write is read as configuration: rclone and the AWS SDK look only here.
export RCLONE_CONFIG="$HOME/rclone.conf" AWS_CONFIG_FILE="$HOME/aws-config" AWS_SHARED_CREDENTIALS_FILE="$HOME/aws-credentials"
[ -e "$RCLONE_CONFIG" ] || : > "$RCLONE_CONFIG"
# Bounded waits: a slow or unreachable S3 is reported, never waited on past the grace period.
export RCLONE_S3_ENV_AUTH=true RCLONE_S3_NO_CHECK_BUCKET=true RCLONE_S3_NO_HEAD=true \
  RCLONE_CONTIMEOUT=10s RCLONE_TIMEOUT=30s RCLONE_RETRIES=2 RCLONE_LOW_LEVEL_RETRIES=3 RCLONE_STATS=0
stopping=0
deadline=
child=
# Runs a command in the background so that SIGTERM interrupts the wait; once stopping, every command
# is bounded by the deadline.
run() {
  if [ -n "$deadline" ]; then
    left=$((deadline - $(date +%s)))
    [ "$left" -gt 0 ] || return 124
    timeout "$left" "$@" &
  else
    "$@" &
  fi
  child=$!
  wait "$child"
  status=$?
  if [ -z "$deadline" ] && [ "$stopping" = 1 ]; then
    kill "$child" 2>/dev/null
    wait "$child"
    return 143
  fi
  if [ -n "$deadline" ] && [ "$(date +%s)" -ge "$deadline" ]; then
    log "S3 did not answer within the ${FINAL_SECONDS}s the pod's grace period leaves ($(where))"
  fi
  return "$status"
}
log() { printf '%s: %s\n' "$ROLE" "$*" >&2; }
where() { printf 'bucket %s, prefix %s, endpoint %s' "$S3_BUCKET" "$S3_PREFIX" "${RCLONE_S3_ENDPOINT:-AWS default}"; }
# rclone filter rules: the persisted paths (a file, a folder, or either when the kind is unknown),
# minus their disposable subfolders; nothing else.
write_filters() {
  : > "$FILTERS"
  while read -r kind path rest; do
    [ -n "$kind" ] || continue
    path=${path%/}
    for sub in $rest; do printf -- '- /%s/%s/**\n' "$path" "${sub%/}"; done
    [ "$kind" = d ] || printf -- '+ /%s\n' "$path"
    [ "$kind" = f ] || printf -- '+ /%s/**\n' "$path"
  done >> "$FILTERS" <<PATHS
$PERSIST_PATHS
PATHS
  printf -- '- **\n' >> "$FILTERS"
}
# The newest lease as "<generation> <state> <pod> <epoch seconds> <seconds valid>", or "none". The
# holder writes how long its lease stays valid without a renewal (three of its renewal periods: its
# sync interval plus its longest sync), so a pod with other values (a new syncIntervalSeconds) judges
# it by the holder's own rule.
lease_now() {
  names=$(run rclone lsf --files-only "$LEASES") || return 1
  latest=$(printf '%s\n' "$names" | sort | tail -n 1)
  if [ -z "$latest" ]; then echo none; return 0; fi
  content=$(run rclone cat "$LEASES/$latest") || return 1
  printf '%s %s\n' "$latest" "$content"
}
# What the stage holds, as compared between backups, into file $1: every folder, and every file's MD5,
# size and path, sorted (rclone lists folders in parallel).
# Whether lease line $1 (as lease_now gives it) is held by another pod and still valid; sets $age.
held_by_other() {
  # shellcheck disable=SC2086 # five words: generation state pod epoch ttl
  set -- $1
  [ "${2:-}" = held ] && [ "$3" != "$POD_NAME" ] || return 1
  case "${4:-}" in ''|*[!0-9]*) return 1 ;; esac
  # A lease from before the validity field: as long as the default interval's (300 s) lease.
  case "${5:-}" in ''|*[!0-9]*) ttl=900 ;; *) ttl=$5 ;; esac
  age=$(($(date +%s) - $4))
  [ "$age" -lt "$ttl" ]
}
manifest() { run rclone lsf -R --format hsp --hash MD5 --links "$STAGE" > "$1.listed" && LC_ALL=C sort "$1.listed" > "$1"; }
