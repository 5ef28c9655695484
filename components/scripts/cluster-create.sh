# shellcheck shell=sh disable=SC2154 # killed and nl come from lib.sh, which runs first
# Creates the kind cluster $CLUSTER from $KIND_CONFIG. Prints nothing on stdout: the kubeconfig is
# read by the program itself. kind uses the docker network named kind unless
# KIND_EXPERIMENTAL_DOCKER_NETWORK says otherwise. kind's own output (some 20 lines) goes to a log
# file in the state directory, kind-create-$CLUSTER.log; when kind fails, its last lines follow,
# and one line naming the log.
#
# Interrupted creates. When `pulumi up` is interrupted, the engine kills this script, but kind,
# a background job here (which ignores SIGINT), may go on and make the cluster, whole or half,
# which no stack records. So while kind runs, a marker file creating-$CLUSTER in the state
# directory says which cluster this run began:
#   begun <pid of this script>
#   pid <pid of kind>
#   watcher <pid of the job that writes the next line>
#   node <ID of the cluster's control-plane container, written once kind has made it>
# The node line is what proves the cluster ours. kind supports no labels of our own, so a
# background job watches for the control-plane container kind makes and writes its ID; like kind,
# that job outlives a kill of this script. The marker is removed on every way out of this script
# but a kill (SIGINT, SIGTERM, SIGHUP, SIGKILL): kind succeeded, kind failed, a check failed.
# The next run, when a cluster of that name exists:
# - a marker whose node is that cluster's control-plane container: the cluster is the one the
#   interrupted run began. The run stops that kind process if it is still at work (its command
#   line must still be this create), deletes the cluster and creates it again.
# - a marker with another node, or none: the cluster was made some other way (say by hand, after
#   the interrupted run). Docker never reuses a container ID, so an old marker cannot match a new
#   cluster: it is left alone, and the step fails saying so.
# - no marker: not this stack's cluster; the step fails saying so.
# One run at a time per cluster name, across stacks (lock in lib.sh).
require_docker
require_kind
state=$(state_dir)
marker=$state/creating-$CLUSTER
log=$state/kind-create-$CLUSTER.log
mkdir -p "$state"
lock "cluster-$CLUSTER" "which creates the kind cluster $CLUSTER"

# The value of the marker's line "$1 VALUE"; nothing when it has none.
marker_field() {
  [ -f "$marker" ] || return 0
  while read -r key value; do
    if [ "$key" = "$1" ]; then
      printf '%s\n' "$value"
      return 0
    fi
  done <"$marker"
}

# IDs of the cluster's control-plane containers, by kind's labels.
control_planes() {
  docker ps -a --no-trunc --filter "label=io.x-k8s.kind.cluster=$CLUSTER" \
    --filter label=io.x-k8s.kind.role=control-plane --format '{{.ID}}' 2>/dev/null
}

# Waits until the process $1 is gone, at most $2 seconds.
wait_gone() {
  i=0
  while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$2" ]; do
    sleep 1
    i=$((i + 1))
  done
}

# Stops the kind process named in the marker if it still creates this cluster, then waits for
# its watcher to write the node line and end.
stop_interrupted_kind() {
  pid=$(marker_field pid)
  case $pid in
  '' | *[!0-9]*) return 0 ;;
  esac
  # /proc where there is one: BusyBox's ps (Alpine) has no -p.
  args=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || ps -p "$pid" -o args= 2>/dev/null || true)
  case $args in
  *"create cluster --name $CLUSTER "*)
    say "stopping kind (pid $pid), still creating $CLUSTER for the interrupted run"
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" 60
    ;;
  esac
  watcher=$(marker_field watcher)
  case $watcher in
  '' | *[!0-9]*) ;;
  *) wait_gone "$watcher" 10 ;;
  esac
}

# The background job: writes the node line once the control-plane container exists; ends then,
# or when kind has ended without making one.
record_node() {
  while :; do
    alive=0
    if kill -0 "$kind_pid" 2>/dev/null; then
      alive=1
    fi
    ids=$(control_planes) || ids=
    if [ -n "$ids" ]; then
      printf 'node %s\n' "${ids%%"$nl"*}" >>"$marker"
      return 0
    fi
    if [ "$alive" = 0 ]; then
      return 0
    fi
    sleep 1
  done
}

if [ -f "$marker" ]; then
  stop_interrupted_kind
fi
if ! clusters=$(kind get clusters 2>/dev/null); then
  say "could not list the kind clusters ('kind get clusters' failed); check that Docker answers and retry"
  exit 1
fi
if printf '%s\n' "$clusters" | grep -Fqx -- "$CLUSTER"; then
  if [ ! -f "$marker" ]; then
    say "a kind cluster named $CLUSTER already exists and is not in this stack; delete it (kind delete cluster --name $CLUSTER) or choose another clusterName"
    exit 1
  fi
  recorded=$(marker_field node)
  ids=$(control_planes) || docker_down ps
  if [ -z "$recorded" ] || ! printf '%s\n' "$ids" | grep -Fqx -- "$recorded"; then
    say "a kind cluster named $CLUSTER already exists and is not in this stack: an interrupted run left the marker $marker, but this cluster's control-plane container is not the one that run began, so it was made some other way and is left alone. Delete it (kind delete cluster --name $CLUSTER) or choose another clusterName."
    exit 1
  fi
  say "the kind cluster $CLUSTER is left from an interrupted run (its creation never finished): deleting it and creating it again"
  # A node container that is still starting may refuse the first kill.
  tries=1
  until kind delete cluster --name "$CLUSTER" >>"$log" 2>&1; do
    if [ "$tries" -ge 3 ]; then
      say "could not delete the half-made cluster $CLUSTER (see $log); run 'kind delete cluster --name $CLUSTER' and 'pulumi up' again"
      exit 1
    fi
    tries=$((tries + 1))
    sleep 2
  done
fi

# The node image, when the stack names one: pulled now, so that a wrong name is one line here
# rather than kind's error in its log. (kind's own default is left to kind.)
if [ -n "${NODE_IMAGE:-}" ] && ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
  if ! err=$(docker pull --quiet "$NODE_IMAGE" 2>&1 >/dev/null); then
    say "the node image $NODE_IMAGE is not on this machine and could not be pulled (${err##*"$nl"}). Check nodeImage (kind's release notes list the images for each release), then run pulumi up again."
    exit 1
  fi
fi

config=$(mktemp)
remove_config() { rm -f "$config"; }
at_exit remove_config
printf '%s' "$KIND_CONFIG" >"$config"

# Every way out but a kill: kind has ended, so nothing half-made is left to mark.
watcher_pid=
unmark() {
  if [ "$killed" = 1 ]; then
    return 0
  fi
  if [ -n "$watcher_pid" ]; then
    kill "$watcher_pid" 2>/dev/null || true
    wait "$watcher_pid" 2>/dev/null || true
  fi
  rm -f "$marker"
}
printf 'begun %s\n' "$$" >"$marker"
at_exit unmark
kind create cluster --name "$CLUSTER" --config "$config" >"$log" 2>&1 </dev/null &
kind_pid=$!
printf 'pid %s\n' "$kind_pid" >>"$marker"
record_node >/dev/null 2>&1 </dev/null &
watcher_pid=$!
printf 'watcher %s\n' "$watcher_pid" >>"$marker"
status=0
wait "$kind_pid" || status=$?
if [ "$status" != 0 ]; then
  # kind's output may not end in a newline: its last line is still read.
  tail -n 5 "$log" | while IFS= read -r line || [ -n "$line" ]; do
    echo "  $line" >&2
  done
  # kind's own default node image (the stack names none), which it could not pull.
  image=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    *'failed to pull image "'*)
      image=${line#*failed to pull image \"}
      image=${image%%\"*}
      ;;
    esac
  done <"$log"
  if [ -n "$image" ]; then
    say "could not create the kind cluster $CLUSTER: kind could not pull its node image $image (Docker's reason above; all of kind's output in $log). Make it available (docker pull $image) or set nodeImage to a kind node image on this machine, then run pulumi up again."
  else
    say "could not create the kind cluster $CLUSTER: kind exited $status (its last lines above; all of them in $log). Fix what it reports, then run pulumi up again; kind removed what it had made."
  fi
  exit 1
fi
say "created the kind cluster $CLUSTER (kind's output: $log)"
