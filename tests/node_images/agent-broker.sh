#!/usr/bin/env bash
# A pre-rename agent-broker image (ghcr.io/thepagent/agent-broker*:dd7e1ca, or whatever reference compose renders
# for that line): /bin/sh and the bot in PATH, no tini; compose runs it under its own /bin/sh wrapper, which turns
# SIGTERM into SIGINT.
#   REAL:  what the line's images give the pod: a /bin/sh, `agent-broker` in PATH, uid 1000, HOME /home/agent.
#   STAND-IN: /usr/local/bin/agent-broker is bot.c built WITHOUT -DSTOP_ON_SIGTERM, in place of the bot and its
#          CLI: like agent-broker (tokio's ctrl_c) it handles only SIGINT, so a SIGTERM kills it, or is dropped
#          when it is PID 1; on SIGINT it writes a last file and exits 0. /bin/sh is busybox (the real images are
#          Debian's, with dash).
# Usage: agent-broker.sh OUT_TAR TAG BOT_C HOME LOGIN_PATH
# shellcheck source=tests/node_images/common.sh
source "$(dirname "$0")/common.sh"
image_begin "$1" "$2"
add_busybox
compile "$3" "$ROOTFS/usr/local/bin/agent-broker"
mkdir -p "$ROOTFS/$4"
chown 1000:1000 "$ROOTFS/$4"
image_end --config.entrypoint agent-broker --config.cmd /etc/agent-broker/config.toml \
  --config.user 1000 --config.workingdir "$4" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env "HOME=$4" \
  --config.env "STANDIN_LOGIN=$5"
