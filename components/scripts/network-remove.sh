# shellcheck shell=sh
# Removes the docker network $NETWORK (retainOnDestroy: false only) if this package created it
# (its label) and nothing is attached to it any more. Found by exact name, removed by ID
# (lib.sh). When docker does not answer, the step fails, so that Pulumi keeps it in the state.
require_docker
lock "network-$NETWORK" "which removes the docker network $NETWORK"
id=$(network_id_exact "$NETWORK") || exit 1
if [ -z "$id" ]; then
  say "docker network $NETWORK is already gone"
  exit 0
fi
managed=$(docker network inspect --format '{{index .Labels "dev.pulumi-kind-dev.managed"}}' "$id" 2>/dev/null) ||
  docker_down "network inspect"
if [ "$managed" != "true" ]; then
  say "kept docker network $NETWORK: pulumi-kind-dev did not create it (kind or another tool did, or an earlier version of this package), so it is not this stack's to remove. Remove it by hand (docker network rm $NETWORK) once nothing uses it."
elif docker network rm "$id" >/dev/null 2>&1; then
  say "removed docker network $NETWORK"
else
  id=$(network_id_exact "$NETWORK") || exit 1
  if [ -n "$id" ]; then
    say "kept docker network $NETWORK: containers are still attached to it (docker network inspect $NETWORK)"
  else
    say "docker network $NETWORK is already gone"
  fi
fi
