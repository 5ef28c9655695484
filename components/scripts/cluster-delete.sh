# shellcheck shell=sh
# Deletes the kind cluster $CLUSTER (nothing to do when it is already gone), then kind's create
# log for it. kind finds its nodes by their exact cluster label. Fails when docker does not
# answer, so that Pulumi keeps the cluster in the state instead of forgetting one that still runs.
require_docker
require_kind
lock "cluster-$CLUSTER" "which deletes the kind cluster $CLUSTER"
if ! kind delete cluster --name "$CLUSTER" >&2; then
  say "could not delete the kind cluster $CLUSTER (see kind's error above); run pulumi destroy again once it is fixed"
  exit 1
fi
rm -f "$(state_dir)/kind-create-$CLUSTER.log"
