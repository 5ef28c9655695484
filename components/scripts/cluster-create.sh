# shellcheck shell=sh
# Creates the kind cluster $CLUSTER from $KIND_CONFIG. Prints nothing secret: the kubeconfig is
# read by the program itself. kind uses the docker network named kind unless
# KIND_EXPERIMENTAL_DOCKER_NETWORK says otherwise.
require_docker
require_kind
clusters=$(kind get clusters 2>/dev/null || true)
if printf '%s\n' "$clusters" | grep -Fqx -- "$CLUSTER"; then
  say "a kind cluster named $CLUSTER already exists and is not in this stack; delete it (kind delete cluster --name $CLUSTER) or choose another clusterName"
  exit 1
fi
config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf '%s' "$KIND_CONFIG" >"$config"
kind create cluster --name "$CLUSTER" --config "$config" >&2
