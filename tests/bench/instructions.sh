#!/bin/sh
# Instructions (callgrind) of a whole render by two compose binaries on the benchmark's inputs: repeatable on
# a busy machine, where wall times are not. Usage: tests/bench/instructions.sh OLD_COMPOSE NEW_COMPOSE
set -eu
old=$1 new=$2
work=$(mktemp -d)
python3 - "$work" <<'PY'
import sys, yaml
plugins = ["kiro", "claude", "codex", "gemini"]
for n in (1, 4, 100, 1000):
    agents = {"kiro": {"enabled": False}}
    for i in range(n):
        agents[f"a{i}"] = {"plugin": plugins[i % 4],
                           "discord": {"botToken": f"token-{i}", "allowedChannels": ["123456789012345678"]}}
    yaml.safe_dump({"agents": agents}, open(f"{sys.argv[1]}/v{n}.yaml", "w"))
PY
for n in 1 4 100 1000; do
  for bin in "$old" "$new"; do
    cache="$work/cache-$(echo "$bin" | md5sum | cut -c1-8)"
    COMPOSE_CACHE_DIR=$cache "$bin" -f "$work/v$n.yaml" > /dev/null 2>&1   # fill the plugin cache
    count=$(COMPOSE_CACHE_DIR=$cache valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$bin" -f "$work/v$n.yaml" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
    echo "$n $bin $count"
  done
done
rm -rf "$work"
