# shellcheck shell=sh
# Makes the registry or cache container $CONTAINER exist as specified, on its volume $VOLUME.
# A container with this package's label and the same fingerprint ($SPEC) is kept as it is: that
# is the adoption after `pulumi destroy`, without a restart (a cache whose upstream does not
# answer could not start again). Another fingerprint: replaced on the same volume. Any other
# container of that name: an error, nothing removed.
# Environment: CONTAINER IMAGE NETWORK VOLUME ROLE SPEC UPSTREAM PUBLISH ENV_NAMES (names of the
# variables the container gets; their values are in this environment too) PROBE_URL ATTEMPTS,
# and REPAIR (see scripts.ts), which only makes the command run again.
require_docker
inspect() { docker container inspect --format "$1" "$CONTAINER" 2>/dev/null; }

# Polls GET $PROBE_URL from the host until the registry answers.
wait_until_it_answers() {
  probe() {
    if command -v curl >/dev/null 2>&1; then
      curl -fsS -o /dev/null --max-time 2 "$PROBE_URL" 2>/dev/null
    elif command -v wget >/dev/null 2>&1; then
      wget -q -O /dev/null -T 2 "$PROBE_URL" 2>/dev/null
    else
      say "neither curl nor wget is on PATH; one is needed to check that the registry answers"
      exit 127
    fi
  }
  i=0
  until probe; do
    i=$((i + 1))
    if [ "$i" -ge "$ATTEMPTS" ]; then
      say "the registry $CONTAINER did not answer GET $PROBE_URL after $ATTEMPTS tries; see 'docker logs $CONTAINER'"
      exit 1
    fi
    sleep 1
  done
  say "registry $CONTAINER answers at $PROBE_URL"
}

# distribution (2.8 and 3) exits at start when a proxy's upstream does not answer, and restarts
# forever. This sits on the cluster's critical path, so it waits one second: enough for the
# registry to try its upstream and exit when the name does not resolve or the port refuses.
warn_if_restarting() {
  sleep 1
  if [ "$(inspect '{{.State.Running}} {{.RestartCount}}')" != "true 0" ]; then
    say "warning: cache $CONTAINER is restarting: the registry exits at start while its upstream $REGISTRY_PROXY_REMOTEURL does not answer. Until it does, nodes pull from $UPSTREAM directly; see 'docker logs $CONTAINER'"
  fi
}

# 1 when this run creates or starts the container (then it is checked below).
started=0
create=1
if inspect '{{.Id}}' >/dev/null; then
  if [ "$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}')" != "true" ]; then
    say "a container named $CONTAINER already exists (image $(inspect '{{.Config.Image}}')) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f $CONTAINER) or choose another container name."
    exit 1
  fi
  if [ "$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.spec"}}')" = "$SPEC" ]; then
    create=0
    if [ "$(inspect '{{.State.Running}}')" = "true" ]; then
      say "using the existing $ROLE container $CONTAINER; data on volume $VOLUME"
    elif docker start "$CONTAINER" >/dev/null 2>&1; then
      started=1
      say "started the existing $ROLE container $CONTAINER; data on volume $VOLUME"
    else
      # Never ran (e.g. its first start failed): make it again.
      docker rm -f "$CONTAINER" >/dev/null
      create=1
    fi
  else
    found_image=$(inspect '{{.Config.Image}}')
    docker rm -f "$CONTAINER" >/dev/null
    if [ "$found_image" = "$IMAGE" ]; then
      say "replacing the $ROLE container $CONTAINER, whose configuration changed; data stays on volume $VOLUME"
    else
      # Typically registry:2 from an earlier version of this package; both read the same volume.
      say "replacing the $ROLE container $CONTAINER: image $found_image -> $IMAGE; data stays on volume $VOLUME. To keep $found_image, set registryImage: $found_image"
    fi
  fi
fi
if [ "$create" = 1 ]; then
  if owner=$(docker volume inspect --format '{{index .Labels "dev.pulumi-kind-dev.managed"}}' "$VOLUME" 2>/dev/null); then
    if [ "$owner" != "true" ]; then
      say "a volume named $VOLUME already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone. Remove it (docker volume rm $VOLUME) or choose another container name."
      exit 1
    fi
  else
    docker volume create --label "dev.pulumi-kind-dev.managed=true" "$VOLUME" >/dev/null
  fi
  set -- --detach --name "$CONTAINER" --restart always --network "$NETWORK" \
    --volume "$VOLUME:/var/lib/registry" --label "dev.pulumi-kind-dev.managed=true" \
    --label "dev.pulumi-kind-dev.role=$ROLE" --label "dev.pulumi-kind-dev.spec=$SPEC"
  if [ -n "$UPSTREAM" ]; then
    set -- "$@" --label "dev.pulumi-kind-dev.upstream=$UPSTREAM"
  fi
  if [ -n "$PUBLISH" ]; then
    set -- "$@" --publish "$PUBLISH"
  fi
  # Values stay in the environment: 'docker run --env NAME' copies NAME from it.
  for name in $ENV_NAMES; do
    set -- "$@" --env "$name"
  done
  if ! docker run "$@" "$IMAGE" >/dev/null; then
    # Leave no half-made container behind that a later run would mistake for a good one.
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    say "could not start the $ROLE container $CONTAINER (see the docker error above)"
    exit 1
  fi
  started=1
  say "started the $ROLE container $CONTAINER; data on volume $VOLUME"
fi
if [ -n "$PROBE_URL" ]; then
  wait_until_it_answers
elif [ "$started" = 1 ]; then
  warn_if_restarting
fi
