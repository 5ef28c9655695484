#!/usr/bin/env bash
# Builds a kind node image on this machine, where no container image can be pulled:
# every binary comes from Go modules (the Go module proxy) or Debian packages, and the
# recipe follows a kind release's images/base/Dockerfile and pkg/build/nodeimage: v0.33.0
# by default, v0.30.0 with KIND_DEV_BED_KIND_VERSION=v0.30.0 (the versions table below).
#
#   bash test/bed/node-image.sh            # build everything that is missing, print the image name
#   bash test/bed/node-image.sh STEP...    # only some steps (see the list at the bottom)
#   bash test/bed/node-image.sh prove      # kind create cluster with it (1 node, then 1+1), delete
#
# Results are cached under $BED_CACHE/node-image/<key>/ (binaries, image archives,
# stamps); docker images are tagged with the key, so a second run only checks stamps.
# See test/bed/node-image/README.md for where this deviates from kind's own images.
# shellcheck disable=SC2317 # steps are called by name (step_$name)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NI_FILES=$BED_DIR/node-image
# Versions. Kubernetes 1.34 because this machine's cgroups are v1 (1.35 refuses them).
K8S_VERSION=${KIND_DEV_BED_K8S_VERSION:-v1.34.0}
# The published staging modules (k8s.io/api, ...) that match: v1.34.N -> v0.34.N.
K8S_STAGING_VERSION=v0.${K8S_VERSION#v1.}
KIND_VERSION=$BED_KIND_VERSION
# From the kind release's images/base/Dockerfile (ARG ..._VERSION) and
# images/local-path-provisioner/Makefile, or the nearest version the module proxy serves.
case $KIND_VERSION in
v0.30.0)
  CONTAINERD_VERSION=v2.1.4
  RUNC_VERSION=v1.3.0
  CNI_PLUGINS_VERSION=v1.7.1
  CRICTL_BUILD_VERSION=v1.34.0 # kind pins crictl v1.33.0, which the module proxy here refuses
  LOCAL_PATH_VERSION=v0.0.30
  BASE_SUITE=bookworm
  BASE_EXTRA_PACKAGES=""
  ;;
v0.33.0)
  CONTAINERD_VERSION=v2.3.4
  RUNC_VERSION=v1.4.3
  CNI_PLUGINS_VERSION=v1.9.1
  CRICTL_BUILD_VERSION=v1.36.0
  LOCAL_PATH_VERSION=v0.0.30 # kind pins v0.0.34, whose module the proxy here refuses (403 on .mod)
  BASE_SUITE=trixie
  BASE_EXTRA_PACKAGES=,e2fsprogs
  ;;
*)
  bed_log "node image: no recipe for kind $KIND_VERSION (known: v0.30.0, v0.33.0)"
  exit 2
  ;;
esac
# What kubeadm v1.34 deploys (cmd/kubeadm/app/constants): etcd 3.6.4-0, CoreDNS v1.12.1,
# pause 3.10.1 (kind's containerd config pins pause 3.10 as the sandbox image: both tags).
ETCD_VERSION=v3.6.4
COREDNS_VERSION=v1.12.1
PAUSE_VERSION=3.10.1

NI_KEY=$K8S_VERSION-kind-$KIND_VERSION
NI_DIR=$BED_CACHE/node-image/$NI_KEY
NI_OUT=$NI_DIR/bin      # built binaries
NI_IMAGES=$NI_DIR/images # image archives (docker save) to import into the node's containerd
NI_SRC=$NI_DIR/src      # wrapper Go modules
# The default kind release's image has the plain tag the tests name; others carry the release.
if [[ $KIND_VERSION == "$BED_KIND_DEFAULT_VERSION" ]]; then
  NODE_IMAGE=${KIND_DEV_BED_NODE_IMAGE:-kind-dev-bed/node:$K8S_VERSION}
else
  NODE_IMAGE=${KIND_DEV_BED_NODE_IMAGE:-kind-dev-bed/node:$K8S_VERSION-kind-$KIND_VERSION}
fi
BASE_IMAGE=kind-dev-bed/node-base:$NI_KEY
mkdir -p "$NI_OUT" "$NI_IMAGES" "$NI_SRC"

export GOFLAGS=${GOFLAGS:-} GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export DOCKER_BUILDKIT=0

# A step's result is kept while its stamp holds the step's current recipe: the versions
# it builds and a hash of the functions (and files) that build it, plus the stamps of the
# steps it uses. So editing a step redoes it and what depends on it, nothing else.
ni_sha() { sha256sum | cut -c1-16; }
ni_recipe() {
  case $1 in
  k8s) echo "$K8S_VERSION $K8S_STAGING_VERSION $(declare -f step_k8s | ni_sha)" ;;
  runtime) echo "$CONTAINERD_VERSION $RUNC_VERSION $CRICTL_BUILD_VERSION $CNI_PLUGINS_VERSION $(declare -f step_runtime bed_go_build | ni_sha)" ;;
  addons) echo "$ETCD_VERSION $COREDNS_VERSION $LOCAL_PATH_VERSION $PAUSE_VERSION $(
    { declare -f step_addons bed_go_build; cat "$NI_FILES"/kindnetd/*; } | ni_sha)" ;;
  images) { declare -f step_images ni_build_image ni_static_rootfs ni_netbase ni_busybox ni_dockerfile
    echo "$NETBASE_PACKAGES"; cat "$NI_FILES"/dockerfiles/*.Dockerfile
    cat "$NI_FILES/iptables-wrapper"; ni_stamp k8s; ni_stamp addons; } | ni_sha ;;
  base) { declare -f step_base; echo "$BASE_SUITE $BASE_PACKAGES"; cat "$NI_FILES/dockerfiles/base.Dockerfile"
    ni_stamp runtime; } | ni_sha ;;
  node) { declare -f step_node; echo "$NODE_IMAGE"; ni_stamp base; ni_stamp images; } | ni_sha ;;
  esac
}
ni_stamp() { cat "$NI_DIR/stamps/$1" 2>/dev/null || true; }
ni_done() { [[ -f $NI_DIR/stamps/$1 && $(ni_stamp "$1") == "$(ni_recipe "$1")" ]]; }
ni_mark() { mkdir -p "$NI_DIR/stamps" && ni_recipe "$1" >"$NI_DIR/stamps/$1"; }

# Directory of a module version in the module cache (downloads it if needed).
ni_moddir() {
  (cd "$NI_SRC" && GOFLAGS=-mod=mod go mod download -json "$1" | jq -r .Dir)
}

ni_kind_dir() { ni_moddir "sigs.k8s.io/kind@$KIND_VERSION"; }


# docker build, quiet unless it fails
ni_docker_build() {
  if ! docker build -q "$@" >"$NI_DIR/docker-build.log" 2>&1; then
    cat "$NI_DIR/docker-build.log" >&2
    return 1
  fi
}

# ni_dockerfile TEMPLATE [KEY=VALUE...]: node-image/dockerfiles/TEMPLATE.Dockerfile with every
# @KEY@ replaced by VALUE (Dockerfiles cannot expand variables in ENTRYPOINT or FROM themselves).
ni_dockerfile() {
  local text kv
  text=$(<"$NI_FILES/dockerfiles/$1.Dockerfile")
  shift
  for kv in "$@"; do text=${text//"@${kv%%=*}@"/"${kv#*=}"}; done
  printf '%s\n' "$text"
}

ni_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
ni_image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
# removes the image a rebuild replaced (OLD-ID NAME), if nothing else refers to it
ni_rmi_replaced() {
  [[ -n $1 && $1 != "$(ni_image_id "$2")" ]] || return 0
  if [[ $(docker image inspect -f '{{len .RepoTags}}' "$1" 2>/dev/null) == 0 ]]; then
    docker rmi "$1" >/dev/null 2>&1 || true
  fi
}

# The steps, one file each (in the order they run).
# shellcheck source=node-image/steps/rootfs.sh
source "$NI_FILES/steps/rootfs.sh"
# shellcheck source=node-image/steps/k8s.sh
source "$NI_FILES/steps/k8s.sh"
# shellcheck source=node-image/steps/runtime.sh
source "$NI_FILES/steps/runtime.sh"
# shellcheck source=node-image/steps/addons.sh
source "$NI_FILES/steps/addons.sh"
# shellcheck source=node-image/steps/images.sh
source "$NI_FILES/steps/images.sh"
# shellcheck source=node-image/steps/base.sh
source "$NI_FILES/steps/base.sh"
# shellcheck source=node-image/steps/node.sh
source "$NI_FILES/steps/node.sh"
# shellcheck source=node-image/steps/prove.sh
source "$NI_FILES/steps/prove.sh"

STEPS=(rootfs k8s runtime addons images base node)
main() {
  local steps=("$@") s start=$SECONDS
  [[ ${#steps[@]} -gt 0 ]] || steps=("${STEPS[@]}")
  for s in "${steps[@]}"; do
    if [[ $(type -t "step_${s//-/_}") != function ]]; then
      bed_log "unknown step $s (steps: ${STEPS[*]} prove)"
      return 2
    fi
    case $s in
    images | base | node | prove) docker info >/dev/null 2>&1 || { bed_log "step $s needs a docker daemon (test/bed/docker.sh)"; return 1; } ;;
    esac
  done
  bed_log "node image recipe: kind $KIND_VERSION, Kubernetes $K8S_VERSION, containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, Debian $BASE_SUITE"
  ni_reuse_k8s
  for s in "${steps[@]}"; do bed_step "$s" "step_${s//-/_}"; done
  bed_log "node image: $NODE_IMAGE (total $((SECONDS - start))s)"
  echo "$NODE_IMAGE"
}
main "$@"; exit $?  # (one line: edits to this file during a run cannot derail it)
