#!/usr/bin/env bash
# The pod sandbox image (containerd's sandbox_image): Kubernetes' own pause program.
#   REAL:  build/pause/linux/pause.c of k8s.io/kubernetes v1.37.2 (the module tests/tools/k8s/go.mod pins, from the
#          Go module cache), compiled statically here, run as 65535 as registry.k8s.io/pause runs it.
#   STAND-IN: nothing else is in the image (the real one holds only /pause too); the compiler is this machine's.
# Usage: pause.sh OUT_TAR TAG PAUSE_C
# shellcheck source=tests/node_images/common.sh
source "$(dirname "$0")/common.sh"
image_begin "$1" "$2"
compile "$3" "$ROOTFS/pause" -DVERSION=v1.37.2
image_end --config.entrypoint /pause --config.user 65535:65535
