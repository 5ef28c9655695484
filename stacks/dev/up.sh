#!/usr/bin/env bash
# Brings the dev stack up on a local file backend: no Pulumi account needed.
#   PULUMI_BACKEND_URL       default file://$HOME/.pulumi-kind-dev (state stays on this machine)
#   PULUMI_CONFIG_PASSPHRASE encrypts the stack's secrets (the kubeconfig); default empty
#   KIND_DEV_STACK           stack name, default dev (config in stacks/dev/Pulumi.<stack>.yaml)
#   KIND_DEV_NO_BOOTSTRAP=1  fail on a missing tool instead of building it
#
# Where the tools are installed (docker with a running daemon, pulumi, kind), they are used and
# nothing is built. Where one is missing and cannot be had the normal way (a machine with no
# internet), it is made by the test bed's own recipes from Debian packages and Go modules
# (test/bed/: the Docker engine, the Pulumi CLI and plugins, kind, and a kind node image when the
# stack names none, since kind's default cannot be pulled there), and the registry image where
# it cannot be pulled. The first such run takes long
# (about 25 minutes for the tools, 20 more for the node image on 2 cores); later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "pulumi-kind-dev: $*" >&2; }
stack=${KIND_DEV_STACK:-dev}
bed_cache=${KIND_DEV_BED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kind-dev-bed}

if ! command -v node >/dev/null 2>&1; then
  say "node is not on PATH; install Node.js 20 or newer (see the README's prerequisites)"
  exit 127
fi

missing=()
command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || missing+=("a Docker daemon")
# The test bed's tools, when an earlier run built them, count as installed.
if [[ -x $bed_cache/bin/pulumi && -x $bed_cache/bin/kind ]] && ! command -v pulumi >/dev/null 2>&1; then
  # shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
  source test/bed/env.sh
  bootstrapped=1
fi
command -v pulumi >/dev/null 2>&1 || missing+=(pulumi)
command -v kind >/dev/null 2>&1 || missing+=(kind)

if ((${#missing[@]})); then
  if [[ ${KIND_DEV_NO_BOOTSTRAP:-} == 1 ]]; then
    say "${missing[*]} missing; install them (see the README's prerequisites)"
    exit 127
  fi
  say "${missing[*]} missing: getting them through the test bed's recipes (test/bed/), from Debian packages and Go modules. The first time this takes about 25 minutes on 2 cores; progress follows."
  start=$SECONDS
  if [[ " ${missing[*]} " == *" a Docker daemon "* ]]; then
    bash test/bed/docker.sh
  fi
  if [[ " ${missing[*]} " == *" pulumi "* || " ${missing[*]} " == *" kind "* ]]; then
    [ -d node_modules ] || npm ci --no-audit --no-fund
    bash test/bed/pulumi-toolchain.sh
    # shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
    source test/bed/env.sh
  fi
  bootstrapped=1
  say "tools ready after $((SECONDS - start))s"
fi

args=()
if [[ ${bootstrapped:-0} == 1 ]]; then
  # A machine without the tools cannot pull kind's default node image either: unless the stack
  # names one, use the test bed's (built once, about 20 minutes the first time).
  if ! grep -q '^ *kind-dev:nodeImage:' "stacks/dev/Pulumi.$stack.yaml" 2>/dev/null; then
    say "no nodeImage in stacks/dev/Pulumi.$stack.yaml: using the test bed's node image"
    image=$(bash test/bed/node-image.sh | tail -n 1)
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
# registry:3 and registry:2 are built by the test bed's recipe, from a Go module or a Debian package.
registry_image=$(sed -n 's/^ *kind-dev:registryImage: *//p' "stacks/dev/Pulumi.$stack.yaml" 2>/dev/null || true)
registry_image=${registry_image//[\"\']/}
registry_image=${registry_image:-registry:3}
if ! docker image inspect "$registry_image" >/dev/null 2>&1 && ! docker pull -q "$registry_image" >/dev/null 2>&1; then
  case $registry_image in
    registry:3 | registry:2)
      say "$registry_image cannot be pulled: building it with test/bed/images.sh (a few minutes the first time)"
      start=$SECONDS
      bash test/bed/images.sh "$registry_image"
      say "$registry_image built in $((SECONDS - start))s"
      ;;
  esac
fi

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-kind-dev}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
export PULUMI_SKIP_UPDATE_CHECK=${PULUMI_SKIP_UPDATE_CHECK:-true}

if [[ $PULUMI_BACKEND_URL == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select --create "$stack" --non-interactive >/dev/null
pulumi up --yes --non-interactive --stack "$stack" "${args[@]}" "$@"
