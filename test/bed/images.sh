#!/usr/bin/env bash
# Builds the images the integration tests use, locally (no image can be pulled here):
#   registry:2                      Debian's docker-registry (distribution 2.8) FROM scratch,
#                                   laid out and configured like the official image
#   registry:3                      distribution v3.1.2 built from its Go module (static, cached
#                                   in $BED_CACHE/registry3), FROM scratch, laid out like the
#                                   official image (config at /etc/distribution/config.yml)
#   kind-dev-bed/debian:bookworm    a debootstrap'ed Debian rootfs (tarball cached in $BED_CACHE)
#   kind-dev-bed/node-standin:latest Debian + containerd 1.6 + cri-pull, containerd as PID 1
#   kind-dev-bed/testimg:1          FROM scratch with one marker file, to push around
# Each image carries the label kind-dev-bed.recipe=<sha256 of its recipe>; an image whose
# label matches is kept, so a second run only checks. What the images do (push and pull on both
# registries, proxy mode, a CRI pull through hosts.toml) is what the integration tests check.
#
# Node stand-in: like a kind v0.27-v0.30 node regarding registries, its containerd has NO
# config_path until a patch sets it. At start the entrypoint writes
# /etc/containerd/config.toml = "version = 2" + every /etc/containerd/patches/*.toml
# (concatenated, not merged: a patch must not repeat a table header of another), so put the
# patch there with `docker cp` between `docker create` and `docker start`.
# Flags it needs here: --cap-add SYS_ADMIN (unpacking mounts the snapshot) and
# --tmpfs /var/lib/containerd (overlayfs snapshotter works on it; nothing to clean up).
# Without SYS_ADMIN neither overlayfs nor native can unpack ("failed to mount ...
# tmpmounts: operation not permitted"). --privileged is not needed (and fails here).
# `cri-pull pull IMAGE` pulls through containerd's CRI plugin, as the kubelet does, so the
# pull honours the CRI registry config (config_path); `ctr images pull` would not.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

export DOCKER_BUILDKIT=0
export PATH=$BED_BIN:$PATH
REGISTRY_IMAGE=registry:2
DEBIAN_IMAGE=kind-dev-bed/debian:bookworm
NODE_IMAGE=kind-dev-bed/node-standin:latest
TEST_IMAGE=kind-dev-bed/testimg:1
BUILD_DIR=$BED_CACHE/build
BUILD_LOG=$BED_CACHE/images-build.log
mkdir -p "$BUILD_DIR"

sha() { sha256sum | cut -c1-32; }
file_sha() { sha256sum "$@" | awk '{print $1}'; }

image_current() { [ "$(image_recipe "$1")" = "$2" ]; }

# docker build, quiet unless it fails.
bed_build() {
  local tag=$1 hash=$2 ctx=$3
  if ! docker build -q --label "$RECIPE_LABEL=$hash" -t "$tag" "$ctx" >"$BUILD_LOG" 2>&1; then
    cat "$BUILD_LOG" >&2
    return 1
  fi
}

debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${BED_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# ---- registry:2 -------------------------------------------------------------------------
REGISTRY_CONFIG='version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: false
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
'
REGISTRY_DOCKERFILE='FROM scratch
COPY rootfs/ /
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
'

# The shared libraries the registry binary loads (ldd), as "path" lines.
registry_libs() {
  ldd /usr/bin/docker-registry | awk '/=>/ {print $3} /^\t\// {print $1}' | grep '^/' | sort -u
}

registry_hash() {
  local libs
  libs=$(registry_libs)
  {
    echo "$REGISTRY_CONFIG$REGISTRY_DOCKERFILE"
    declare -f build_registry
    # shellcheck disable=SC2086,SC2046
    file_sha /usr/bin/docker-registry /etc/ssl/certs/ca-certificates.crt $(readlink -f $libs)
  } | sha
}

build_registry() {
  local hash
  hash=$(registry_hash)
  if image_current "$REGISTRY_IMAGE" "$hash"; then
    bed_log "$REGISTRY_IMAGE: up to date (recipe $hash)"
    return 0
  fi
  if [ -n "$(docker image inspect -f '{{join .RepoDigests ","}}' "$REGISTRY_IMAGE" 2>/dev/null)" ] &&
    [ -z "$(image_recipe "$REGISTRY_IMAGE")" ]; then
    bed_log "$REGISTRY_IMAGE: a pulled (official) image is present; keeping it"
    return 0
  fi
  local ctx=$BUILD_DIR/registry
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs"/{bin,etc/docker/registry,etc/ssl/certs,var/lib/registry,tmp}
  cp /usr/bin/docker-registry "$ctx/rootfs/bin/registry"
  local lib
  for lib in $(registry_libs); do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  printf '%s' "$REGISTRY_CONFIG" >"$ctx/rootfs/etc/docker/registry/config.yml"
  chmod 1777 "$ctx/rootfs/tmp"
  printf '%s' "$REGISTRY_DOCKERFILE" >"$ctx/Dockerfile"
  bed_build "$REGISTRY_IMAGE" "$hash" "$ctx"
  bed_log "$REGISTRY_IMAGE: built (recipe $hash, libs: $(registry_libs | tr '\n' ' '))"
  BED_BUILT=1
}

# ---- registry:3 -------------------------------------------------------------------------
# distribution v3 built from its Go module (no Debian package carries it), laid out like the
# official image: a static /bin/registry, a CA bundle and the config at
# /etc/distribution/config.yml (same content as registry:2's). The binary takes minutes to
# build, so it is cached in $BED_CACHE keyed by module version, Go version and this recipe.
REGISTRY3_IMAGE=registry:3
REGISTRY3_MODULE=github.com/distribution/distribution/v3
REGISTRY3_VERSION=v3.1.2
# As distribution's Makefile sets them (the commit is not known from the module proxy).
REGISTRY3_LDFLAGS="-s -w -X $REGISTRY3_MODULE/version.version=$REGISTRY3_VERSION -X $REGISTRY3_MODULE/version.mainpkg=$REGISTRY3_MODULE"
# OTEL_TRACES_EXPORTER=none as in distribution's own Dockerfile: no trace exporter to dial.
REGISTRY3_DOCKERFILE='FROM scratch
COPY rootfs/ /
VOLUME /var/lib/registry
ENV OTEL_TRACES_EXPORTER=none
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/distribution/config.yml"]
'

registry3_binary() {
  local go=$1 key
  key=$({
    echo "$REGISTRY3_MODULE@$REGISTRY3_VERSION $REGISTRY3_LDFLAGS"
    "$go" version
    "$go" env GOOS GOARCH
    declare -f build_registry3_binary bed_go_build
  } | sha)
  echo "$BED_CACHE/registry3/registry-$REGISTRY3_VERSION-$key"
}

# Builds cmd/registry into OUT (bed_go_build: a wrapper module with distribution's own go.sum).
build_registry3_binary() {
  local out=$1 start=$SECONDS dir
  dir=$(dirname "$out")
  bed_log "$REGISTRY3_IMAGE: building $REGISTRY3_MODULE@$REGISTRY3_VERSION cmd/registry (several minutes cold)"
  rm -rf "$dir/build"
  bed_go_build "$dir/build" 0 "" "$REGISTRY3_LDFLAGS" "$REGISTRY3_MODULE@$REGISTRY3_VERSION" \
    "$REGISTRY3_MODULE/cmd/registry"
  mv "$dir/build/registry" "$out"
  rm -rf "$dir/build"
  find "$dir" -maxdepth 1 -name 'registry-*' ! -name "$(basename "$out")" -delete
  bed_log "$REGISTRY3_IMAGE: built $out in $((SECONDS - start))s"
}

registry3_hash() {
  local bin=$1
  {
    echo "$REGISTRY_CONFIG$REGISTRY3_DOCKERFILE"
    declare -f build_registry3
    file_sha "$bin" /etc/ssl/certs/ca-certificates.crt
  } | sha
}

build_registry3() {
  local go bin hash
  if [ -n "$(docker image inspect -f '{{join .RepoDigests ","}}' "$REGISTRY3_IMAGE" 2>/dev/null)" ] &&
    [ -z "$(image_recipe "$REGISTRY3_IMAGE")" ]; then
    bed_log "$REGISTRY3_IMAGE: a pulled (official) image is present; keeping it"
    return 0
  fi
  go=$(go_bin) || {
    bed_log "$REGISTRY3_IMAGE: needs Go (go on PATH or /usr/local/go/bin/go)"
    return 1
  }
  bin=$(registry3_binary "$go")
  if [ ! -x "$bin" ]; then
    mkdir -p "$(dirname "$bin")"
    build_registry3_binary "$bin"
  fi
  hash=$(registry3_hash "$bin")
  if image_current "$REGISTRY3_IMAGE" "$hash"; then
    bed_log "$REGISTRY3_IMAGE: up to date (recipe $hash)"
    return 0
  fi
  local ctx=$BUILD_DIR/registry3
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs"/{bin,etc/distribution,etc/ssl/certs,var/lib/registry,tmp}
  cp "$bin" "$ctx/rootfs/bin/registry"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  printf '%s' "$REGISTRY_CONFIG" >"$ctx/rootfs/etc/distribution/config.yml"
  chmod 1777 "$ctx/rootfs/tmp"
  printf '%s' "$REGISTRY3_DOCKERFILE" >"$ctx/Dockerfile"
  bed_build "$REGISTRY3_IMAGE" "$hash" "$ctx"
  bed_log "$REGISTRY3_IMAGE: built (recipe $hash, $REGISTRY3_MODULE $REGISTRY3_VERSION, static)"
  BED_BUILT=1
}

# ---- Debian base ------------------------------------------------------------------------
DEBIAN_SUITE=bookworm
DEBIAN_INCLUDE=ca-certificates

# The rootfs tarball is keyed by what goes into it; the image by that and how it is imported.
debian_rootfs_key() {
  echo "debootstrap --variant=minbase --include=$DEBIAN_INCLUDE $DEBIAN_SUITE $(debian_mirror); cleanup v1" | sha
}

debian_hash() {
  { debian_rootfs_key; declare -f import_debian; } | sha
}

make_debian_rootfs() {
  local tarball=$1 root=$BUILD_DIR/rootfs mirror m
  mirror=$(debian_mirror)
  for m in proc sys dev/pts; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf "$root"
  bed_log "$DEBIAN_IMAGE: debootstrap --variant=minbase $DEBIAN_SUITE from $mirror"
  if ! debootstrap --variant=minbase --include="$DEBIAN_INCLUDE" "$DEBIAN_SUITE" "$root" "$mirror" \
    >"$BED_CACHE/debootstrap.log" 2>&1; then
    tail -n 30 "$BED_CACHE/debootstrap.log" >&2
    return 1
  fi
  rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
  rm -rf "$root"/var/lib/apt/lists/*
  rm -f "$BED_CACHE"/debian-"$DEBIAN_SUITE"-*.tar
  tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
  bed_log "$DEBIAN_IMAGE: rootfs cached as $tarball ($(du -h "$tarball" | cut -f1))"
}

import_debian() {
  docker import --change "LABEL $RECIPE_LABEL=$2" --change 'CMD ["/bin/bash"]' \
    "$1" "$DEBIAN_IMAGE" >/dev/null
}

build_debian() {
  local hash tarball
  hash=$(debian_hash)
  tarball=$BED_CACHE/debian-$DEBIAN_SUITE-$(debian_rootfs_key).tar
  if image_current "$DEBIAN_IMAGE" "$hash"; then
    bed_log "$DEBIAN_IMAGE: up to date (recipe $hash)"
    return 0
  fi
  if [ -s "$tarball" ]; then
    bed_log "$DEBIAN_IMAGE: importing cached $tarball"
  else
    make_debian_rootfs "$tarball"
  fi
  import_debian "$tarball" "$hash"
  bed_log "$DEBIAN_IMAGE: imported (recipe $hash)"
  BED_BUILT=1
}

# ---- node stand-in ----------------------------------------------------------------------
NODE_PACKAGES=(containerd runc)
# shellcheck disable=SC2016 # expanded by the container's shell
NODE_ENTRYPOINT='#!/bin/sh
# containerd as PID 1, like a kind node regarding registries: config = version 2 + patches.
set -eu
{
  echo "version = 2"
  for f in /etc/containerd/patches/*.toml; do
    [ -e "$f" ] || continue
    echo
    echo "# $f"
    cat "$f"
  done
} >/etc/containerd/config.toml
mkdir -p /etc/containerd/certs.d
exec containerd --config /etc/containerd/config.toml "$@"
'
NODE_DOCKERFILE="FROM $DEBIAN_IMAGE
COPY debs/ /tmp/debs/
RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs && mkdir -p /etc/containerd/patches /etc/containerd/certs.d
COPY entrypoint.sh /usr/local/bin/entrypoint
COPY cri-pull /usr/local/bin/cri-pull
ENTRYPOINT [\"/usr/local/bin/entrypoint\"]
"

node_pkg_versions() {
  apt-cache policy "${NODE_PACKAGES[@]}" | awk '/^[^ ]/ {sub(":$", "", $1); p=$1} /Candidate:/ {print p "=" $2}'
}

go_bin() {
  command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || return 1
}

# Builds test/bed/cri-pull (static) into $BUILD_DIR/cri-pull-<hash>; prints the path.
build_cri_pull() {
  local src=$BED_DIR/cri-pull hash out go
  hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha)
  out=$BUILD_DIR/cri-pull-$hash
  if [ ! -x "$out" ]; then
    go=$(go_bin) || {
      bed_log "cri-pull: needs Go (go on PATH or /usr/local/go/bin/go)"
      return 1
    }
    (cd "$src" && CGO_ENABLED=0 "$go" build -trimpath -ldflags='-s -w' -o "$out.tmp" .) >&2
    mv "$out.tmp" "$out"
    bed_log "cri-pull: built $out"
  fi
  echo "$out"
}

node_hash() {
  local cri=$1
  {
    echo "$NODE_DOCKERFILE$NODE_ENTRYPOINT"
    image_recipe "$DEBIAN_IMAGE"
    node_pkg_versions
    file_sha "$cri"
    declare -f build_node
  } | sha
}

build_node() {
  local cri hash
  cri=$(build_cri_pull)
  hash=$(node_hash "$cri")
  if image_current "$NODE_IMAGE" "$hash"; then
    bed_log "$NODE_IMAGE: up to date (recipe $hash)"
    return 0
  fi
  local ctx=$BUILD_DIR/node
  rm -rf "$ctx"
  mkdir -p "$ctx/debs"
  local spec
  # shellcheck disable=SC2046
  if ! (cd "$ctx/debs" && apt-get download $(node_pkg_versions) >/dev/null 2>&1); then
    bed_log "$NODE_IMAGE: apt-get download failed; running apt-get update"
    apt-get update -qq
    # shellcheck disable=SC2046
    (cd "$ctx/debs" && apt-get download $(node_pkg_versions) >/dev/null 2>&1)
    hash=$(node_hash "$cri")
  fi
  spec=$(node_pkg_versions | tr '\n' ' ')
  cp "$cri" "$ctx/cri-pull"
  printf '%s' "$NODE_ENTRYPOINT" >"$ctx/entrypoint.sh"
  chmod +x "$ctx/entrypoint.sh"
  printf '%s' "$NODE_DOCKERFILE" >"$ctx/Dockerfile"
  bed_build "$NODE_IMAGE" "$hash" "$ctx"
  bed_log "$NODE_IMAGE: built (recipe $hash; $spec)"
  BED_BUILT=1
}

# ---- test image -------------------------------------------------------------------------
TEST_DOCKERFILE='FROM scratch
COPY marker /marker
CMD ["/marker"]
'
TEST_MARKER='kind-dev-bed test image 1
'

build_testimg() {
  local hash
  hash=$({ echo "$TEST_DOCKERFILE$TEST_MARKER"; declare -f build_testimg; } | sha)
  if image_current "$TEST_IMAGE" "$hash"; then
    bed_log "$TEST_IMAGE: up to date (recipe $hash)"
    return 0
  fi
  local ctx=$BUILD_DIR/testimg
  rm -rf "$ctx"
  mkdir -p "$ctx"
  printf '%s' "$TEST_MARKER" >"$ctx/marker"
  printf '%s' "$TEST_DOCKERFILE" >"$ctx/Dockerfile"
  bed_build "$TEST_IMAGE" "$hash" "$ctx"
  bed_log "$TEST_IMAGE: built (recipe $hash)"
  BED_BUILT=1
}

bed_images_main() {
  local missing=() c
  for c in docker /usr/bin/docker-registry debootstrap curl apt-get; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if [ ${#missing[@]} -gt 0 ] || ! docker info >/dev/null 2>&1; then
    bed_log "missing ${missing[*]:-a docker daemon that answers}: run test/bed/docker.sh first"
    return 1
  fi
  BED_BUILT=0
  bed_step image-registry build_registry
  bed_step image-registry3 build_registry3
  bed_step image-debian build_debian
  bed_step image-node-standin build_node
  bed_step image-testimg build_testimg
  if [ "$BED_BUILT" = 1 ]; then
    # Images replaced by a rebuild, left untagged.
    docker image prune -f --filter "label=$RECIPE_LABEL" >/dev/null
  fi
}

# `images.sh registry:3` (or registry:2) builds that one image: what `npm run up` needs on a
# machine that cannot pull it.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case ${1:-} in
    "") bed_images_main ;;
    registry:3) build_registry3 ;;
    registry:2) build_registry ;;
    *)
      echo "usage: $0 [registry:2|registry:3]" >&2
      exit 2
      ;;
  esac
fi
