#!/usr/bin/env bash
# Tilt's own reader of the KEP-1755 ConfigMap (github.com/tilt-dev/localregistry-go, the code Tilt
# uses to find a cluster's local registry), built from its Go module into $BED_BIN as
# `local-registry` (`local-registry get --kubeconfig FILE` prints what Tilt would use). The
# end-to-end tests run it against the live cluster. Cached by version.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

READER_MODULE=github.com/tilt-dev/localregistry-go
READER_VERSION=v0.0.0-20201021185044-ffc4c827f097
out=$BED_CACHE/kep1755-reader/$READER_VERSION

if [[ ! -x $out/local-registry ]]; then
  start=$SECONDS
  bed_log "kep1755 reader: building $READER_MODULE@$READER_VERSION (cmd/kubectl-local_registry)"
  rm -rf "$out/build"
  bed_go_build "$out/build" 0 "" "-s -w" "$READER_MODULE@$READER_VERSION" "$READER_MODULE/cmd/kubectl-local_registry"
  mv "$out/build/kubectl-local_registry" "$out/local-registry"
  rm -rf "$out/build"
  bed_log "kep1755 reader: built in $((SECONDS - start))s"
fi
ln -sfn "$out/local-registry" "$BED_BIN/local-registry"
bed_log "kep1755 reader: $BED_BIN/local-registry"
