#!/usr/bin/env bash
# ctlptl (github.com/tilt-dev/ctlptl), the closest peer of this package: it creates a kind
# cluster with a local registry and writes the KEP-1755 ConfigMap. The benchmarks
# (test/bench/ctlptl.ts) run it side by side with the component; the CI test bed does not need
# it. Built from its Go module (no release binary can be downloaded here) into $BED_BIN as
# `ctlptl`; cached by version. The first build takes about 5 minutes on 2 cores (niced).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CTLPTL_MODULE=github.com/tilt-dev/ctlptl
CTLPTL_VERSION=v0.9.3
out=$BED_CACHE/ctlptl/$CTLPTL_VERSION

if [[ ! -x $out/ctlptl ]]; then
  start=$SECONDS
  bed_log "ctlptl: building $CTLPTL_MODULE@$CTLPTL_VERSION (cmd/ctlptl); the first build takes minutes"
  rm -rf "$out/build"
  # main.version is what `ctlptl version` prints (goreleaser sets it the same way).
  bed_go_build "$out/build" 0 "" "-s -w -X main.version=${CTLPTL_VERSION#v}" \
    "$CTLPTL_MODULE@$CTLPTL_VERSION" "$CTLPTL_MODULE/cmd/ctlptl"
  mv "$out/build/ctlptl" "$out/ctlptl"
  rm -rf "$out/build"
  bed_log "ctlptl: built in $((SECONDS - start))s"
fi
ln -sfn "$out/ctlptl" "$BED_BIN/ctlptl"
bed_log "ctlptl: $BED_BIN/ctlptl"
