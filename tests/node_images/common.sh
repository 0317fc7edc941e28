# shellcheck shell=bash
# Sourced by the image scripts beside it: an OCI image built offline, with no registry, from a root filesystem
# assembled here (umoci: init, new, unpack, fill the rootfs, repack, config), written as one tar of the OCI
# layout. tests/node.py imports it into containerd under the reference compose renders
# (`ctr -n k8s.io images import --base-name REPOSITORY`: the layout's tag completes it).
set -euo pipefail

# image_begin OUT_TAR TAG: a new image with an empty rootfs at $ROOTFS.
image_begin() {
  OUT_TAR=$1 TAG=$2
  WORK="$(mktemp -d "${OUT_TAR}.XXXXXX")"
  umoci init --layout "$WORK/layout"
  umoci new --image "$WORK/layout:$TAG"
  umoci unpack --image "$WORK/layout:$TAG" "$WORK/bundle" >/dev/null
  ROOTFS="$WORK/bundle/rootfs"
  mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/usr/local/bin" "$ROOTFS/usr/bin"
  chmod 1777 "$ROOTFS/tmp"
  # Accounts as in a distribution image: root and nobody; uid 1000 is given by the pod (runAsUser).
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > "$ROOTFS/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOTFS/etc/group"
}

# add_busybox: a static busybox as /bin/sh and every applet it has, linked in /bin as Alpine links them.
add_busybox() {
  install -m 0755 /bin/busybox "$ROOTFS/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$ROOTFS/bin/$applet" ] || ln -s busybox "$ROOTFS/bin/$applet"
  done
}

# compile SOURCE OUTPUT [CFLAGS...]: a static binary, so the image needs no C library.
compile() {
  src=$1 out=$2
  shift 2
  cc -Os -static -Wall -Werror -o "$out" "$src" "$@"
  strip "$out"
}

# image_end CONFIG_ARGS...: repack the rootfs as one layer, set the image configuration, write OUT_TAR.
image_end() {
  umoci repack --image "$WORK/layout:$TAG" "$WORK/bundle" >/dev/null
  umoci config --image "$WORK/layout:$TAG" --os linux --architecture amd64 "$@"
  umoci gc --layout "$WORK/layout"
  tar -C "$WORK/layout" -cf "$OUT_TAR" .
  rm -rf "$WORK"
}
