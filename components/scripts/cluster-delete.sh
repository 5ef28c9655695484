# shellcheck shell=sh
# Deletes the kind cluster $CLUSTER (nothing to do when it is already gone).
require_kind
kind delete cluster --name "$CLUSTER" >&2
