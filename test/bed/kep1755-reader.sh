#!/usr/bin/env bash
# Tilt's own reader of the KEP-1755 ConfigMap (github.com/tilt-dev/localregistry-go, the code Tilt
# uses to find a cluster's local registry), built from its Go module into $BED_BIN as
# `local-registry` (`local-registry get --kubeconfig FILE` prints what Tilt would use). The
# end-to-end tests run it against the live cluster. Cached by version.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bed_go_tool kep1755-reader local-registry 0 "-s -w" \
  github.com/tilt-dev/localregistry-go@v0.0.0-20201021185044-ffc4c827f097 \
  github.com/tilt-dev/localregistry-go/cmd/kubectl-local_registry
