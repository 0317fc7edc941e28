#!/usr/bin/env bash
# An openab v0.8.2 agent image (ghcr.io/openabdev/openab*:0.8.2, or whatever reference compose renders for the
# openab line), as its Dockerfiles define it: ENTRYPOINT ["tini", "--"], CMD ["openab", "run", "-c",
# "/etc/openab/config.toml"], user uid 1000, HOME and WORKDIR the image's home.
#   REAL:  tini 0.19.0 as PID 1 (Debian's tini-static: the release the openab images install from Debian), the
#          image's entrypoint, command and user as tests/openab_facts.py records them.
#   STAND-IN: /usr/local/bin/openab is bot.c built with -DSTOP_ON_SIGTERM, in place of the bot AND its CLI: it
#          reads the config, reports what it finds in $HOME, "logs in" by writing STANDIN_LOGIN (a path under
#          $HOME, the CLI's login file) if it is not there, and stops on SIGTERM or SIGINT as openab does, writing
#          a last file on the way out. /bin/sh is busybox (the real images are Debian's, with dash).
# Usage: openab.sh OUT_TAR TAG BOT_C HOME LOGIN_PATH
# shellcheck source=tests/node_images/common.sh
source "$(dirname "$0")/common.sh"
image_begin "$1" "$2"
add_busybox
install -m 0755 /usr/bin/tini-static "$ROOTFS/usr/bin/tini"
compile "$3" "$ROOTFS/usr/local/bin/openab" -DSTOP_ON_SIGTERM
mkdir -p "$ROOTFS/$4"
chown 1000:1000 "$ROOTFS/$4"
image_end --config.entrypoint tini --config.entrypoint -- \
  --config.cmd openab --config.cmd run --config.cmd -c --config.cmd /etc/openab/config.toml \
  --config.user 1000 --config.workingdir "$4" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env "HOME=$4" \
  --config.env "STANDIN_LOGIN=$5"
