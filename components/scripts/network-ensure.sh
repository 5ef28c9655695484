# shellcheck shell=sh
# Makes the docker network $NETWORK exist. An existing network of that exact name is reused,
# whoever made it: kind, another stack, an earlier run. One this script creates carries this
# package's label, and only such a network is ever removed (network-remove.sh).
require_docker
lock "network-$NETWORK" "which makes the docker network $NETWORK"
id=$(network_id_exact "$NETWORK") || exit 1
if [ -n "$id" ]; then
  managed=$(docker network inspect --format '{{index .Labels "dev.pulumi-kind-dev.managed"}}' "$id" 2>/dev/null) ||
    docker_down "network inspect"
  if [ "$managed" = "true" ]; then
    say "using existing docker network $NETWORK"
  else
    # kind's own network, typically: shared by design, but never this package's to remove.
    say "using existing docker network $NETWORK (not created by pulumi-kind-dev, so never removed by it)"
  fi
else
  docker network create --label "dev.pulumi-kind-dev.managed=true" "$NETWORK" >/dev/null
  say "created docker network $NETWORK"
fi
