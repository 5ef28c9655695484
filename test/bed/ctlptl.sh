#!/usr/bin/env bash
# ctlptl (github.com/tilt-dev/ctlptl), the closest peer of this package: it creates a kind
# cluster with a local registry and writes the KEP-1755 ConfigMap. The benchmarks
# (test/bench/ctlptl.ts) run it side by side with the component; the CI test bed does not need
# it. Built from its Go module (no release binary can be downloaded here) into $BED_BIN as
# `ctlptl`; cached by version. The first build takes about 5 minutes on 2 cores (niced).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# main.version is what `ctlptl version` prints (goreleaser sets it the same way).
bed_go_tool ctlptl ctlptl 0 "-s -w -X main.version=0.9.3" github.com/tilt-dev/ctlptl@v0.9.3 \
  github.com/tilt-dev/ctlptl/cmd/ctlptl
