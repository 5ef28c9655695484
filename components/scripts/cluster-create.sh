# shellcheck shell=sh
# Creates the kind cluster $CLUSTER from $KIND_CONFIG. Prints nothing secret: the kubeconfig is
# read by the program itself. kind uses the docker network named kind unless
# KIND_EXPERIMENTAL_DOCKER_NETWORK says otherwise.
# A marker file holding kind's process id lives while `kind create cluster` runs. When `pulumi
# up` is interrupted, the engine kills this script but kind may go on; the marker stays. A
# cluster of that name with a marker was never recorded by any stack, so the next run stops that
# kind process if it still runs, deletes the half-made cluster and creates it again. Any other
# existing cluster of that name is not this stack's: an error, left alone.
require_docker
require_kind
state_dir=${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/pulumi-kind-dev
marker=$state_dir/creating-$CLUSTER

# Stops the kind process named in the marker, if it is still creating this cluster.
stop_interrupted_kind() {
  pid=$(cat "$marker" 2>/dev/null || true)
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  args=$(ps -p "$pid" -o args= 2>/dev/null || true)
  case $args in
    *"create cluster --name $CLUSTER "*)
      say "stopping kind (pid $pid), still creating $CLUSTER for the interrupted run"
      kill "$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 60 ]; do
        sleep 1
        i=$((i + 1))
      done
      ;;
  esac
}

clusters=$(kind get clusters 2>/dev/null || true)
if printf '%s\n' "$clusters" | grep -Fqx -- "$CLUSTER"; then
  if [ ! -f "$marker" ]; then
    say "a kind cluster named $CLUSTER already exists and is not in this stack; delete it (kind delete cluster --name $CLUSTER) or choose another clusterName"
    exit 1
  fi
  say "the kind cluster $CLUSTER is left from an interrupted run (its creation never finished): deleting it and creating it again"
  stop_interrupted_kind
  # A node container that is still starting may refuse the first kill.
  tries=1
  until kind delete cluster --name "$CLUSTER" >&2; do
    if [ "$tries" -ge 3 ]; then
      say "could not delete the half-made cluster $CLUSTER; run 'kind delete cluster --name $CLUSTER' and 'pulumi up' again"
      exit 1
    fi
    tries=$((tries + 1))
    sleep 2
  done
fi
config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf '%s' "$KIND_CONFIG" >"$config"
mkdir -p "$state_dir"
kind create cluster --name "$CLUSTER" --config "$config" >&2 &
kind_pid=$!
printf '%s\n' "$kind_pid" >"$marker"
wait "$kind_pid"
rm -f "$marker"
