# shellcheck shell=sh
# Runs when only the command's script text changed (a new version of this package): the kind
# config and the name are the same, so the cluster stays as it is. A changed config replaces the
# cluster instead (kind cannot reconfigure a running one).
require_kind
if ! kind get clusters 2>/dev/null | grep -Fx -- "$CLUSTER" >/dev/null; then
  say "the kind cluster $CLUSTER is gone (deleted outside Pulumi?); run: pulumi up --replace on the cluster resource"
  exit 1
fi
say "kind cluster $CLUSTER unchanged"
