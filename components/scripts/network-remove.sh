# shellcheck shell=sh
# Removes the docker network $NETWORK unless something still uses it.
if docker network rm "$NETWORK" >/dev/null 2>&1; then
  say "removed docker network $NETWORK"
else
  say "kept docker network $NETWORK: it is still in use or already gone"
fi
