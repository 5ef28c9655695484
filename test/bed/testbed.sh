#!/usr/bin/env bash
# The test bed: everything the integration tests need on a machine with no internet, built
# from Debian packages and Go modules, cached outside the repo ($BED_CACHE) and keyed by
# version, so a second run only checks. Idempotent.
#   test/bed/testbed.sh            Docker engine, images (and one node stand-in per containerd
#                                  minor kind ships), Pulumi CLI and plugins, kind CLI
#   test/bed/testbed.sh --node-image   ... and what the end-to-end tests add: the kind node image,
#                                  Tilt's KEP-1755 reader, Tilt, crane and the crane image,
#                                  the Pulumi YAML and Python language hosts, the docker-build
#                                  plugin and docker buildx (LocalImage in test/consumer)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1-}:$#" in
  :0) with_node_image=0 ;;
  --node-image:1) with_node_image=1 ;;
  -h:1 | --help:1)
    bed_help
    exit
    ;;
  *)
    echo "usage: $0 [--node-image]" >&2
    exit 2
    ;;
esac

start=$SECONDS
bed_step docker bash "$BED_DIR/docker.sh"
bed_step images bash "$BED_DIR/images.sh"
bed_step containerd-matrix bash "$BED_DIR/containerd-matrix.sh"
bed_step pulumi-toolchain bash "$BED_DIR/pulumi-toolchain.sh"
if [ "$with_node_image" = 1 ]; then
  bed_step node-image bash "$BED_DIR/node-image.sh"
  bed_step kep1755-reader bash "$BED_DIR/kep1755-reader.sh"
  bed_step workflow-clients bash "$BED_DIR/workflow-clients.sh"
  bed_step language-yaml bash "$BED_DIR/language-yaml.sh"
  bed_step language-python bash "$BED_DIR/language-python.sh"
  bed_step docker-build bash "$BED_DIR/docker-build.sh"
fi
bed_log "test bed ready in $((SECONDS - start))s; tools in $BED_BIN (tests put it first on PATH)"
ls -l "$BED_BIN" >&2
