# shellcheck shell=sh disable=SC2154 # nl comes from lib.sh, which runs first
# Makes the registry or cache container $CONTAINER exist as specified, on its volume $VOLUME.
# The container and the network are found by exact name and handled by ID (lib.sh); one run at a
# time per container name, whichever stack it belongs to (lock in lib.sh). What it finds:
# - no container of that name: it gets the image (pulled if absent), the volume (created, or
#   reused when it has this package's label), and starts the container.
# - a container with this package's label, the same fingerprint ($SPEC) and the same credential
#   values: kept as it is, started if stopped. That is the adoption after `pulumi destroy`, and
#   a second stack sharing it, without a restart (a cache whose upstream does not answer could
#   not start again).
# - the same with another fingerprint or other credential values: replaced on the same volume,
#   once the new image is there (until then the old container serves on). Unless another stack
#   created it (its owner label is not $OWNER): then the step fails naming both stacks and what
#   differs, rather than the two stacks replacing it in turn at every `pulumi up`.
# - any other container of that name: an error, nothing removed.
# Credentials: no label holds anything derived from one (a hash of a password can be
# brute-forced). Their names are part of the fingerprint; their values are compared with the
# container's own environment, which Docker keeps anyway (`docker inspect` shows it).
# Environment: CONTAINER IMAGE NETWORK VOLUME ROLE SPEC SETTINGS (readable, see describeSettings)
# OWNER (<project>/<stack>) UPSTREAM PUBLISH HELPER (a --mount value, or empty) ENV_NAMES (names of the variables the container
# gets; their values are in this environment too) SECRET_NAMES (those that are credentials)
# PROBE_URL ATTEMPTS, and REPAIR (see scripts.ts), which only makes the command run again.
require_docker
lock "container-$CONTAINER" "which makes the $ROLE container $CONTAINER for ${OWNER:-a stack}"

network_id=$(network_id_exact "$NETWORK") || exit 1
if [ -z "$network_id" ]; then
  say "the docker network $NETWORK does not exist (removed by hand?); create it (docker network create $NETWORK) and run pulumi up again"
  exit 1
fi
id=$(container_id_exact "$CONTAINER") || exit 1

# A field of the container $id.
inspect() { docker container inspect --format "$1" "$id" 2>/dev/null || docker_down "container inspect"; }

# Prints the names in SECRET_NAMES whose values the container $id does not have.
changed_secrets() {
  [ -n "${SECRET_NAMES:-}" ] || return 0
  # One "LENGTH NAME=VALUE" per variable: a value may hold newlines, its length (in bytes, as Go
  # counts them; hence LC_ALL=C here) says where it ends. The '.' keeps the last newline.
  found_env=$(inspect '{{range .Config.Env}}{{len .}} {{println .}}{{end}}' && echo .) || exit 1
  found_env=$nl${found_env%.}
  LC_ALL=C
  for name in $SECRET_NAMES; do
    # printenv ends the value with a newline; the '.' keeps the value's own trailing newlines.
    value=$(printenv "$name" && echo .) || value=
    entry=$name=${value%"$nl."}
    case $found_env in
    *"$nl${#entry} $entry$nl"*) ;;
    *) printf '%s ' "$name" ;;
    esac
  done
}

# Prints the words of the settings $1 (found) and $2 (wanted) that differ, as "key old -> new".
settings_diff() {
  set -f
  out=
  for w in $2; do
    old="(none)"
    for f in $1; do
      if [ "${f%%=*}" = "${w%%=*}" ]; then old=${f#*=}; fi
    done
    [ "$old" = "${w#*=}" ] || out="${out:+$out, }${w%%=*} $old -> ${w#*=}"
  done
  for f in $1; do
    case " $2" in
    *" ${f%%=*}="*) ;;
    *) out="${out:+$out, }${f%%=*} ${f#*=} -> (none)" ;;
    esac
  done
  set +f
  printf '%s\n' "$out"
}

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
# forever; once the upstream has answered, it logs "listening on". This sits on the cluster's
# critical path, so it polls for one or the other, for 3 seconds at most (a slower upstream is
# not waited for: the doctor checks the cache later).
warn_if_restarting() {
  polls=0
  while :; do
    state=$(inspect '{{.State.Running}} {{.RestartCount}} {{.State.StartedAt}}') || exit 1
    case $state in
    "true 0 "*) ;;
    *) break ;;
    esac
    if docker logs --since "${state#true 0 }" "$id" 2>&1 | grep -q "listening on"; then
      return 0
    fi
    polls=$((polls + 1))
    [ "$polls" -lt 30 ] || return 0
    sleep 0.1
  done
  say "warning: cache $CONTAINER is restarting: the registry exits at start while its upstream $REGISTRY_PROXY_REMOTEURL does not answer. Until it does, nodes pull from $UPSTREAM directly; see 'docker logs $CONTAINER'"
}

# distribution 2.8 (registry:2) has no proxy exec: its first lines say that it ignores the
# helper's variables, and it would pull without a login. Such a cache goes (with the volume if
# this run made it). Not `--since` its start: once a cache restarts a few times (no upstream),
# Docker 20.10 prints nothing since the start it records.
refuse_ignored_helper() {
  polls=0
  first=
  while [ -z "$first" ] && [ "$polls" -lt 30 ]; do
    first=$(docker logs "$id" 2>&1 | head -n 3)
    [ -n "$first" ] || sleep 0.1
    polls=$((polls + 1))
  done
  case $first in
  *"unrecognized environment variable REGISTRY_PROXY_EXEC"*)
    docker rm -f "$id" >/dev/null 2>&1 || docker_down rm
    if [ "${new_volume:-0}" = 1 ]; then
      docker volume rm "$VOLUME" >/dev/null 2>&1 || true
    fi
    say "the cache $CONTAINER cannot use credentialHelper: its image $IMAGE runs distribution 2, which ignores a credential helper and would pull without a login; the container was removed. Set registryImage to a distribution v3 image (registry:3, the default) or drop credentialHelper, then run pulumi up again."
    exit 1
    ;;
  esac
}

# 1 when this run creates or starts the container (then it is checked below).
started=0
create=1
# The container of ours this run replaces, and why: config, image, secrets or broken.
old=
why=
found_image=
if [ -n "$id" ]; then
  managed=$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}') || exit 1
  found_image=$(inspect '{{.Config.Image}}') || exit 1
  if [ "$managed" != "true" ]; then
    say "a container named $CONTAINER already exists (image $found_image) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f $CONTAINER) or choose another container name."
    exit 1
  fi
  found_spec=$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.spec"}}') || exit 1
  secrets=
  if [ "$found_spec" = "$SPEC" ]; then
    secrets=$(changed_secrets) || exit 1
  fi
  if [ "$found_spec" = "$SPEC" ] && [ -z "$secrets" ]; then
    create=0
    running=$(inspect '{{.State.Running}}') || exit 1
    if [ "$running" = "true" ]; then
      say "using the existing $ROLE container $CONTAINER; data on volume $VOLUME"
    elif docker start "$id" >/dev/null 2>&1; then
      started=1
      say "started the existing $ROLE container $CONTAINER; data on volume $VOLUME"
    else
      # Never ran (e.g. its first start failed): make it again.
      create=1
      old=$id
      why=broken
    fi
  else
    found_owner=$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.owner"}}') || exit 1
    if [ -n "$found_owner" ] && [ -n "${OWNER:-}" ] && [ "$found_owner" != "$OWNER" ]; then
      found_settings=$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.settings"}}') || exit 1
      differs=$(settings_diff "$found_settings" "${SETTINGS:-}")
      for name in $secrets; do
        differs="${differs:+$differs, }the value of $name"
      done
      say "the $ROLE container $CONTAINER was created by $found_owner with other settings than $OWNER asks for (${differs:-its fingerprint dev.pulumi-kind-dev.spec}), so it is left as it is: replacing it would undo $found_owner's settings, and $found_owner would replace it back. Give both the same settings, or one of them another container name; if $found_owner no longer uses it, remove it (docker rm -f $CONTAINER; the volume $VOLUME and its data stay) and run pulumi up again."
      exit 1
    fi
    old=$id
    if [ "$found_spec" = "$SPEC" ]; then
      why=secrets
    elif [ "$found_image" = "$IMAGE" ]; then
      why=config
    else
      why=image
    fi
  fi
fi
if [ "$create" = 1 ]; then
  # The image first: until it is here, the old container keeps serving.
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    if ! err=$(docker pull --quiet "$IMAGE" 2>&1 >/dev/null); then
      reason=${err##*"$nl"}
      if [ -n "$old" ]; then
        say "could not pull the image $IMAGE (${reason:-docker pull failed}); the $ROLE container $CONTAINER is left as it is, on image $found_image. Make $IMAGE available (docker pull $IMAGE) or set the image back to $found_image, then run pulumi up again."
      else
        say "the image $IMAGE is not on this machine and could not be pulled (${reason:-docker pull failed}); nothing was started. Check registryImage, or make $IMAGE available (docker pull $IMAGE), then run pulumi up again."
      fi
      exit 1
    fi
  fi
  if volume_exists "$VOLUME"; then
    volume_managed=$(docker volume inspect --format '{{index .Labels "dev.pulumi-kind-dev.managed"}}' "$VOLUME" 2>/dev/null) ||
      docker_down "volume inspect"
    if [ "$volume_managed" != "true" ]; then
      say "a volume named $VOLUME already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone. Remove it (docker volume rm $VOLUME) or choose another container name."
      exit 1
    fi
  else
    docker volume create --label "dev.pulumi-kind-dev.managed=true" "$VOLUME" >/dev/null
    new_volume=1
  fi
  if [ -n "$old" ]; then
    docker rm -f "$old" >/dev/null 2>&1 || docker_down rm
    case $why in
    config)
      say "replacing the $ROLE container $CONTAINER, whose configuration changed; data stays on volume $VOLUME"
      ;;
    image)
      # Typically registry:2 from an earlier version of this package; both read the same volume.
      say "replacing the $ROLE container $CONTAINER: image $found_image -> $IMAGE; data stays on volume $VOLUME. To keep $found_image, set registryImage: $found_image"
      ;;
    secrets)
      say "replacing the $ROLE container $CONTAINER: the value of ${secrets% } changed; data stays on volume $VOLUME"
      ;;
    esac
  fi
  set -- --detach --name "$CONTAINER" --restart always --network "$NETWORK" \
    --volume "$VOLUME:/var/lib/registry" --label "dev.pulumi-kind-dev.managed=true" \
    --label "dev.pulumi-kind-dev.role=$ROLE" --label "dev.pulumi-kind-dev.spec=$SPEC" \
    --label "dev.pulumi-kind-dev.repair=${REPAIR:-ok}"
  if [ -n "${OWNER:-}" ]; then
    set -- "$@" --label "dev.pulumi-kind-dev.owner=$OWNER"
  fi
  if [ -n "${SETTINGS:-}" ]; then
    set -- "$@" --label "dev.pulumi-kind-dev.settings=$SETTINGS"
  fi
  if [ -n "$UPSTREAM" ]; then
    set -- "$@" --label "dev.pulumi-kind-dev.upstream=$UPSTREAM"
  fi
  if [ -n "$PUBLISH" ]; then
    set -- "$@" --publish "$PUBLISH"
  fi
  if [ -n "${HELPER:-}" ]; then
    set -- "$@" --mount "$HELPER"
  fi
  # Values stay in the environment: 'docker run --env NAME' copies NAME from it.
  for name in $ENV_NAMES; do
    set -- "$@" --env "$name"
  done
  if ! err=$(docker run "$@" "$IMAGE" 2>&1 >/dev/null); then
    # Leave no half-made container behind that a later run would mistake for a good one: the
    # one of that name with this run's fingerprint, no other; and the volume this run made,
    # still empty.
    id=$(container_id_exact "$CONTAINER") || exit 1
    if [ -n "$id" ] && [ "$(inspect '{{index .Config.Labels "dev.pulumi-kind-dev.spec"}}')" = "$SPEC" ]; then
      docker rm -f "$id" >/dev/null 2>&1 || true
    fi
    if [ "${new_volume:-0}" = 1 ]; then
      docker volume rm "$VOLUME" >/dev/null 2>&1 || true
    fi
    case $err in
    *"address already in use"* | *"port is already allocated"*)
      bound=${PUBLISH%:*}
      if [ "$ROLE" = registry ]; then
        setting=registryPort
      else
        setting="the cache's hostPort"
      fi
      say "port ${bound##*:} on ${bound%:*} is taken by another program, so the $ROLE $CONTAINER cannot publish it. Stop that program or set $setting to a free port."
      ;;
    *)
      say "could not start the $ROLE container $CONTAINER: ${err##*"$nl"}"
      ;;
    esac
    exit 1
  fi
  id=$(container_id_exact "$CONTAINER") || exit 1
  started=1
  say "started the $ROLE container $CONTAINER; data on volume $VOLUME"
fi
# The registry has no authentication and allows deletes; a cache pulls with its credentials.
if [ -n "$PUBLISH" ]; then
  bound=${PUBLISH%:*}
  case ${bound%:*} in
  127.* | "[::1]") ;;
  *)
    if [ "$ROLE" = registry ]; then
      exposed="anyone who reaches it can push, pull and delete images (no authentication, deletes enabled)"
    else
      exposed="anyone who reaches it can pull through it, with its upstream credentials if it has any (no authentication)"
    fi
    say "warning: the $ROLE $CONTAINER is published on $bound, not only on this machine: $exposed. Set bindAddress to 127.0.0.1 (the default) unless other machines must reach it, and then let a firewall admit only those."
    ;;
  esac
fi
# Also when kept: one made by 1.0.0 was not checked.
if [ -n "${HELPER:-}" ]; then
  refuse_ignored_helper
fi
if [ -n "$PROBE_URL" ]; then
  wait_until_it_answers
elif [ "$started" = 1 ]; then
  warn_if_restarting
fi
