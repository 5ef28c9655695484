# shellcheck shell=sh
# Removes the container $CONTAINER and its volume $VOLUME (retainOnDestroy: false only), unless
# another kind cluster still pulls through it: a node on $NETWORK whose hosts.toml names
# http://$CONTAINER:5000. The stack's own cluster, $OWN_CLUSTER, is being deleted alongside and
# does not count. A node whose files cannot be read (stopped) counts as a user. Such a registry
# is kept, and the message says which cluster uses it.
# Objects are found by exact name and removed by ID, only with this package's label (lib.sh); a
# container or volume of that name that another tool made is left alone, with a message. When
# docker does not answer, the step fails: Pulumi then keeps it in the state, to be deleted by the
# next `pulumi destroy`, instead of forgetting a container and a volume that still exist.
require_docker
lock "container-$CONTAINER" "which removes the $ROLE container $CONTAINER"
users=""
network_id=$(network_id_exact "$NETWORK") || exit 1
nodes=
if [ -n "$network_id" ]; then
  # By the network's full ID: a name would also match networks whose ID starts with it.
  nodes=$(docker ps -a --no-trunc --filter label=io.x-k8s.kind.cluster --filter "network=$network_id" --format '{{.ID}}' 2>/dev/null) ||
    docker_down ps
fi
for node in $nodes; do
  cluster=$(container_label "$node" io.x-k8s.kind.cluster 2>/dev/null) || cluster="?"
  [ -n "${OWN_CLUSTER:-}" ] && [ "$cluster" = "$OWN_CLUSTER" ] && continue
  # shellcheck disable=SC2016 # expanded by the node's shell
  if files=$(docker exec "$node" sh -c 'cat /etc/containerd/certs.d/*/hosts.toml 2>/dev/null || true' 2>/dev/null); then
    case $files in
    *"\"http://$CONTAINER:5000\""*) ;;
    *) continue ;;
    esac
  fi
  case " $users " in
  *" $cluster "*) ;;
  *) users="${users:+$users }$cluster" ;;
  esac
done
if [ -n "$users" ]; then
  say "kept $CONTAINER and its volume $VOLUME although retainOnDestroy is false: kind cluster(s) $users still pull through it. Destroy them first, or remove it by hand (docker rm -f $CONTAINER && docker volume rm $VOLUME) once nothing uses it."
  exit 0
fi

id=$(container_id_exact "$CONTAINER") || exit 1
found=gone
if [ -n "$id" ]; then
  managed=$(container_label "$id" dev.pulumi-kind-dev.managed) || exit 1
  if [ "$managed" = "true" ]; then
    docker rm -f "$id" >/dev/null 2>&1 || docker_down rm
    found=removed
  else
    say "kept the container $CONTAINER: pulumi-kind-dev did not create it (no label dev.pulumi-kind-dev.managed=true), so it is not this stack's to remove. Remove it by hand (docker rm -f $CONTAINER) if nothing needs it."
    found=foreign
  fi
fi

volume_state=gone
if volume_exists "$VOLUME"; then
  managed=$(docker volume inspect --format '{{index .Labels "dev.pulumi-kind-dev.managed"}}' "$VOLUME" 2>/dev/null) ||
    docker_down "volume inspect"
  if [ "$managed" != "true" ]; then
    say "kept the volume $VOLUME: pulumi-kind-dev did not create it (no label dev.pulumi-kind-dev.managed=true), so it is not this stack's to remove. Remove it by hand (docker volume rm $VOLUME) if nothing needs it."
    volume_state=foreign
  elif docker volume rm "$VOLUME" >/dev/null 2>&1; then
    volume_state=removed
  elif volume_exists "$VOLUME"; then
    volume_state=in-use
  fi
fi

case $found/$volume_state in
removed/removed) say "removed $CONTAINER and its volume $VOLUME" ;;
removed/foreign) say "removed $CONTAINER" ;;
removed/gone) say "removed $CONTAINER; its volume $VOLUME was already gone" ;;
removed/in-use) say "removed $CONTAINER; kept its volume $VOLUME: another container uses it (docker ps -a --filter volume=$VOLUME)" ;;
gone/removed) say "removed the volume $VOLUME; the container $CONTAINER was already gone" ;;
gone/gone) say "$CONTAINER and its volume $VOLUME were already gone" ;;
gone/in-use) say "kept the volume $VOLUME: another container uses it (docker ps -a --filter volume=$VOLUME); the container $CONTAINER was already gone" ;;
foreign/removed) say "removed the volume $VOLUME" ;;
*) ;;
esac
