#!/usr/bin/env bash
# Brings the dev stack up on a local file backend: no Pulumi account needed.
# Usage: npm run up [-- FLAG...], each FLAG passed to pulumi up (--refresh, --diff, ...).
#   PULUMI_BACKEND_URL       default file://$HOME/.pulumi-kind-dev (state stays on this machine)
#   PULUMI_CONFIG_PASSPHRASE encrypts the stack's secrets (the kubeconfig); default empty
#   KIND_DEV_STACK           stack name, default dev (config in stacks/dev/Pulumi.<stack>.yaml)
#   KIND_DEV_NO_BOOTSTRAP=1  fail on a missing tool instead of building it
#
# Where the tools are installed (docker with a running daemon, pulumi, kind), they are used and
# nothing is built. On a Debian-like Linux machine where one is missing and cannot be had the
# normal way (no internet), it is made by the test bed's recipes from Debian packages and Go
# modules (test/bed/): the Docker engine, the Pulumi CLI and plugins, kind, a kind node image
# when the stack names none, and the registry image where it cannot be pulled. The first such
# run is long (docs/offline.md gives the measured time); later runs reuse what it built.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  while IFS= read -r line && [[ $line == \#* ]]; do
    line=${line#\#}
    [[ $line == '!'* ]] || echo "${line# }"
  done <"$0"
  exit 0
fi
cd "$(dirname "$0")/../.."

say() { echo "pulumi-kind-dev: $*" >&2; }
stack=${KIND_DEV_STACK:-dev}
stack_file=stacks/dev/Pulumi.$stack.yaml
bed_cache=${KIND_DEV_BED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kind-dev-bed}

# stack_config KEY: the value of kind-dev:KEY in the stack file, unquoted; empty when unset.
stack_config() {
  local value
  value=$(sed -n "s/^ *kind-dev:$1: *//p" "$stack_file" 2>/dev/null || true)
  value=${value%%$'\n'*}
  value=${value//[\"\']/}
  echo "$value"
}

# bed_build CMD...: a test-bed build, with Go's "go: downloading MODULE VERSION" lines (hundreds
# on a cold machine, and no help when a build fails) left out of stderr. Its status is the build's.
bed_build() {
  { "$@" 2>&1 1>&3 3>&- | { grep --line-buffered -v '^go: downloading ' || true; } >&2; } 3>&1
}

# The test bed can build what is missing only on Linux with apt (Debian, Ubuntu) and Go.
can_bootstrap() {
  [[ ${KIND_DEV_NO_BOOTSTRAP:-} != 1 && $(uname -s) == Linux ]] && command -v apt-get >/dev/null 2>&1 &&
    { command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]]; }
}

if ! command -v node >/dev/null 2>&1; then
  say "node is not on PATH; install Node.js 20 or newer"
  exit 127
fi

# Docker: a daemon that does not answer is started only where the test bed installed the engine
# (no service manager there); a daemon the user chose (DOCKER_HOST) or runs (Docker Desktop,
# systemd) is theirs to start.
if ! docker info >/dev/null 2>&1; then
  if command -v dockerd >/dev/null 2>&1 || [[ -x /usr/sbin/dockerd ]]; then
    if [[ -n ${DOCKER_HOST:-} || -d /run/systemd/system || ! -f $bed_cache/dockerd.log ]]; then
      say "the Docker daemon does not answer (docker info failed${DOCKER_HOST:+, DOCKER_HOST=$DOCKER_HOST}). Start Docker (Docker Desktop, or: sudo systemctl start docker) and run npm run up again."
      exit 1
    fi
    say "starting the Docker daemon the test bed installed (test/bed/docker.sh)"
    bash test/bed/docker.sh
  elif can_bootstrap; then
    say "no Docker engine: installing Debian's docker.io and starting it (test/bed/docker.sh)"
    bash test/bed/docker.sh
  else
    say "no Docker engine on this machine. Install Docker (https://docs.docker.com/engine/install/) and run npm run up again."
    exit 127
  fi
fi

# pulumi and kind: installed ones first, then those an earlier run built into the bed's cache.
if ! command -v pulumi >/dev/null 2>&1 || ! command -v kind >/dev/null 2>&1; then
  if [[ -x $bed_cache/bin/pulumi && -x $bed_cache/bin/kind ]]; then
    # shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
    source test/bed/env.sh
    bootstrapped=1
  fi
fi
missing=()
command -v pulumi >/dev/null 2>&1 || missing+=(pulumi)
command -v kind >/dev/null 2>&1 || missing+=(kind)
if ((${#missing[@]})); then
  if ! can_bootstrap; then
    say "${missing[*]} not on PATH. Install them (https://www.pulumi.com/docs/install/, https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and run npm run up again."
    exit 127
  fi
  say "${missing[*]} not on PATH: building the Pulumi CLI, its plugins and kind from Go modules (test/bed/pulumi-toolchain.sh; about 20 minutes the first time on 2 cores)"
  start=$SECONDS
  [ -d node_modules ] || npm ci --no-audit --no-fund
  bed_build bash test/bed/pulumi-toolchain.sh
  # shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
  source test/bed/env.sh
  bootstrapped=1
  say "tools ready after $((SECONDS - start))s"
fi

args=()
if [[ ${bootstrapped:-0} == 1 ]]; then
  # A machine without the tools cannot pull kind's default node image either: unless the stack
  # names one, use the test bed's (built once, about 20 minutes the first time).
  if [[ -z $(stack_config nodeImage) ]]; then
    say "no nodeImage in $stack_file: using the test bed's node image (test/bed/node-image.sh)"
    image=$(bed_build bash test/bed/node-image.sh | tail -n 1)
    args+=(--config "kind-dev:nodeImage=$image")
  fi
  # Machines where `docker run --privileged` fails need the test bed's docker wrapper for kind.
  local_images=$(docker images -q)
  probe=${image:-${local_images%%$'\n'*}}
  if [[ -n $probe ]] && ! docker run --rm --privileged --entrypoint /bin/true "$probe" >/dev/null 2>&1; then
    say "docker run --privileged fails on this machine: kind runs through test/bed/docker-wrapper"
    PATH="$PWD/test/bed/docker-wrapper:$PATH"
  fi
fi

# The registry image (also the caches'): where it is not here and cannot be pulled (no internet),
# registry:3 and registry:2 are built by the test bed's recipe. Any other image is left to the
# registry's own step, which says what failed.
registry_image=$(stack_config registryImage)
registry_image=${registry_image:-registry:3}
if [[ $registry_image == registry:[23] ]] && can_bootstrap &&
  ! docker image inspect "$registry_image" >/dev/null 2>&1 &&
  ! docker pull -q "$registry_image" >/dev/null 2>&1; then
  say "$registry_image cannot be pulled: building it (test/bed/images.sh; a few minutes the first time)"
  start=$SECONDS
  bed_build bash test/bed/images.sh "$registry_image"
  say "$registry_image built in $((SECONDS - start))s"
fi

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-kind-dev}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=${PULUMI_SKIP_UPDATE_CHECK:-true}

if [[ $PULUMI_BACKEND_URL == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
# Quiet unless it fails ("Created stack" is not news). Once a file backend holds the stack's
# state, `pulumi up --stack` needs no select: that saves a CLI start on every later run.
project=$(sed -n 's/^name: *//p' Pulumi.yaml)
state=${PULUMI_BACKEND_URL#file://}/.pulumi/stacks/$project/$stack.json
if [[ $PULUMI_BACKEND_URL != file://* || ! (-f $state || -f $state.gz) ]] &&
  ! out=$(pulumi stack select --create "$stack" --non-interactive 2>&1); then
  echo "$out" >&2
  exit 1
fi
# --yes already skips the question; --skip-preview skips the second program run it would cost.
# No progress dots: without a terminal they are lines of their own.
pulumi up --yes --skip-preview --suppress-progress --non-interactive --stack "$stack" "${args[@]}" "$@"
