# shellcheck shell=sh
# Removes the container $CONTAINER and its volume $VOLUME (retainOnDestroy: false only).
docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
if docker volume rm "$VOLUME" >/dev/null 2>&1; then
  say "removed $CONTAINER and its volume $VOLUME"
else
  say "removed $CONTAINER; kept volume $VOLUME: it is still in use or already gone"
fi
