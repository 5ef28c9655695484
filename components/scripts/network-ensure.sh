# shellcheck shell=sh
# Makes the docker network $NETWORK exist; an existing one (kind's, another stack's) is reused.
require_docker
if docker network inspect "$NETWORK" >/dev/null 2>&1; then
  say "using existing docker network $NETWORK"
else
  docker network create "$NETWORK" >/dev/null
  say "created docker network $NETWORK"
fi
