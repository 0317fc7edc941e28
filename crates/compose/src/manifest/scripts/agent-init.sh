# agent-broker waits for SIGINT (its ctrl-c handler) to shut down, and as PID 1 the kernel drops a
# SIGTERM it has no handler for, so every stop would wait out the grace period. This shell is PID 1
# instead: it runs agent-broker ("$0", arguments "$@") as its child, turns SIGTERM into SIGINT for it,
# and exits with its status. (The agent-broker images carry /bin/sh but no tini.)
"$0" "$@" &
child=$!
trap 'kill -INT "$child" 2>/dev/null' TERM INT
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
exit "$status"
