# shellcheck shell=sh
# Removes the container $CONTAINER and its volume $VOLUME (retainOnDestroy: false only), unless
# another kind cluster still pulls through it: a node on $NETWORK whose hosts.toml names
# http://$CONTAINER:5000. The stack's own cluster, $OWN_CLUSTER, is being deleted alongside and
# does not count. A node whose files cannot be read (stopped) counts as a user. Such a registry
# is kept, and the message says which cluster uses it.
users=""
for node in $(docker ps -a --filter label=io.x-k8s.kind.cluster --filter "network=$NETWORK" --format '{{.Names}}' 2>/dev/null); do
  cluster=$(docker inspect --format '{{index .Config.Labels "io.x-k8s.kind.cluster"}}' "$node" 2>/dev/null || echo "?")
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
docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
if docker volume rm "$VOLUME" >/dev/null 2>&1; then
  say "removed $CONTAINER and its volume $VOLUME"
else
  say "removed $CONTAINER; kept volume $VOLUME: it is still in use or already gone"
fi
