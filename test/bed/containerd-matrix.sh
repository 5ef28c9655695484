#!/usr/bin/env bash
# One node stand-in per containerd minor that kind's node images ship, so the integration tests
# (test/integration/containerd-matrix.test.ts) prove the component's containerd patch and
# hosts.toml files on each of them:
#   kind-dev-bed/node-standin:containerd-<version>
#     FROM kind-dev-bed/node-standin:latest (images.sh: entrypoint, cri-pull), plus
#     /usr/local/bin/{containerd,ctr}    built here from Go modules, first on PATH (Debian's
#                                        containerd 1.6 stays in /usr/bin, unused)
#     /etc/containerd/patches/00-kind-base.toml
#                                        the kind release's own /etc/containerd/config.toml
#                                        (without its `version = 2` line, which the entrypoint
#                                        writes), so the node starts from what kind writes
#     /etc/containerd/cri-base.json      `ctr oci spec`, the base runtime spec that config
#                                        names (kind generates it the same way)
#
#   bash test/bed/containerd-matrix.sh             build what is missing (a second run only checks)
#   bash test/bed/containerd-matrix.sh v2.3.4 ...  only these containerd versions
#   bash test/bed/containerd-matrix.sh --list      print "KIND_RELEASE CONTAINERD IMAGE" lines
#
# containerd and ctr are built as kind's base image builds them (images/base/Dockerfile: CGO on,
# tags "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs", version set by -ldflags), through
# bed_go_build (common.sh). Nothing else is built: the tests only pull images, so no shim, runc or
# CNI. Binaries are cached in $BED_CACHE/containerd/<version>-<recipe>/ with the time their cold
# build took. All versions share Go's default build cache, so each later build only compiles what
# changed. A version that cannot be built is named with the reason; the others are still built,
# and the script fails at the end.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# kind release -> the containerd its node images ship: images/base/Dockerfile's
# CONTAINERD_VERSION, checked against the release's module on every build. One per minor: the
# first release with 2.0, the last with 2.1, the first with 2.2 (the default config_path
# changed), the newest with 2.3. Not covered: v0.28 (2.1.0), v0.29 (2.1.1), v0.32 (2.3.1).
# A row marked `newer` is a containerd no kind release ships yet, started from that release's
# config (what a node image built with a newer containerd, or kind's next release, runs): its pin
# is not checked.
CM_MATRIX=(
  "v0.27.0 v2.0.2"
  "v0.30.0 v2.1.4"
  "v0.31.0 v2.2.0"
  "v0.33.0 v2.3.4"
  "v0.33.0 v2.4.2 newer"
)
CM_BASE_IMAGE="kind-dev-bed/node-standin:latest"
CM_IMAGE_REPO="kind-dev-bed/node-standin"
CM_RECIPE_LABEL=$RECIPE_LABEL
CM_PKG=github.com/containerd/containerd/v2
CM_TAGS="no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs"
CM_DIR=$BED_CACHE/containerd
CM_DOCKERFILE="FROM $CM_BASE_IMAGE
COPY containerd ctr /usr/local/bin/
COPY kind-config.toml /etc/containerd/patches/00-kind-base.toml
COPY cri-base.json /etc/containerd/cri-base.json
"

export DOCKER_BUILDKIT=0 GOTOOLCHAIN=local
export PATH=$BED_BIN:$PATH:/usr/local/go/bin

cm_sha() { sha256sum | cut -c1-16; }
cm_image() { echo "$CM_IMAGE_REPO:containerd-$1"; }
cm_image_recipe() { image_recipe "$1"; }
cm_ldflags() {
  echo "-X $CM_PKG/version.Version=$1 -X $CM_PKG/version.Package=$CM_PKG -s -w"
}

# The kind release's module directory (downloaded into the module cache once).
cm_kind_dir() {
  local info
  info=$(cd "$CM_DIR" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$1") || return 1
  jq -r .Dir <<<"$info"
}

# The kind release's containerd config, without the `version = 2` line the entrypoint writes.
cm_kind_config() {
  local dir text
  dir=$(cm_kind_dir "$1") || return 1
  text=$(<"$dir/images/base/files/etc/containerd/config.toml")
  bed_has_line "$text" "version = 2" || {
    bed_log "kind $1: its containerd config.toml has no 'version = 2' line; the stand-in assumes one"
    return 1
  }
  printf '%s\n' "$text" | sed '/^version = 2$/d'
}

# Fails unless the release's images/base/Dockerfile pins this containerd version.
cm_check_kind() {
  local kind=$1 want=$2 dir text
  dir=$(cm_kind_dir "$kind") || return 1
  text=$(<"$dir/images/base/Dockerfile")
  if ! bed_has_line "$text" "ARG CONTAINERD_VERSION=\"$want\""; then
    bed_log "kind $kind: images/base/Dockerfile does not pin containerd $want: $(grep 'CONTAINERD_VERSION=' <<<"$text")"
    return 1
  fi
}

cm_bin_recipe() {
  {
    echo "$1 cgo=1 $CM_TAGS $(cm_ldflags "$1")"
    go version
    declare -f bed_go_build cm_build_bin
  } | cm_sha
}

# Builds containerd and ctr at version $1 unless cached; prints their directory.
cm_build_bin() {
  local version=$1 dir
  dir=$CM_DIR/$version-$(cm_bin_recipe "$version")
  if [[ -x $dir/containerd && -x $dir/ctr && -f $dir/build-seconds ]]; then
    bed_log "containerd $version: cached in $dir (its cold build took $(<"$dir/build-seconds")s)"
    echo "$dir"
    return 0
  fi
  local tmp=$dir.partial log=$CM_DIR/build-$version.log start=$SECONDS
  rm -rf "$tmp"
  bed_log "containerd $version: building containerd and ctr from $CM_PKG@$version (log: $log)"
  if ! bed_go_build "$tmp" 1 "$CM_TAGS" "$(cm_ldflags "$version")" "$CM_PKG@$version" \
    "$CM_PKG/cmd/containerd" "$CM_PKG/cmd/ctr" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    return 1
  fi
  echo "$((SECONDS - start))" >"$tmp/build-seconds"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  bed_log "containerd $version: built in $(<"$dir/build-seconds")s ($("$dir/containerd" --version))"
  echo "$dir"
}

cm_build_image() {
  local kind=$1 version=$2 bin=$3 image ctx config hash old
  image=$(cm_image "$version")
  config=$(cm_kind_config "$kind") || return 1
  hash=$({
    echo "$CM_DOCKERFILE$config"
    cm_image_recipe "$CM_BASE_IMAGE"
    sha256sum "$bin/containerd" "$bin/ctr" | awk '{print $1}'
    declare -f cm_build_image
  } | cm_sha)
  if [[ $(cm_image_recipe "$image") == "$hash" ]]; then
    bed_log "$image: up to date (recipe $hash)"
    return 0
  fi
  ctx=$CM_DIR/build/$version
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$bin/containerd" "$bin/ctr" "$ctx/"
  printf '%s\n' "$config" >"$ctx/kind-config.toml"
  "$bin/ctr" oci spec >"$ctx/cri-base.json"
  printf '%s' "$CM_DOCKERFILE" >"$ctx/Dockerfile"
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  if ! docker build -q --label "$CM_RECIPE_LABEL=$hash" -t "$image" "$ctx" >"$ctx.log" 2>&1; then
    cat "$ctx.log" >&2
    return 1
  fi
  rm -rf "$ctx" "$ctx.log"
  # The image this one replaces, unless something still uses it.
  if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$image")" ]]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
  local got
  got=$(docker run --rm --entrypoint containerd "$image" --version)
  if [[ $got != *" $version "* ]]; then
    bed_log "$image: 'containerd --version' in the image says: $got"
    return 1
  fi
  bed_log "$image: built (recipe $hash; $got)"
}

cm_one() {
  local kind=$1 version=$2 pin=${3:-} bin lock status=0
  # One run at a time per version (the test bed and a test may both ask for it).
  exec {lock}>"$CM_DIR/$version.lock"
  if ! flock -n "$lock"; then
    bed_log "containerd $version: another run is building it; waiting"
    flock "$lock"
  fi
  if { [[ $pin == newer ]] || cm_check_kind "$kind" "$version"; } && bin=$(cm_build_bin "$version"); then
    cm_build_image "$kind" "$version" "$bin" || status=1
  else
    status=1
  fi
  exec {lock}>&-
  return "$status"
}

cm_main() {
  local want=("$@") row kind version pin failed=() start v
  if [[ ${want[0]:-} == --list ]]; then
    for row in "${CM_MATRIX[@]}"; do
      read -r kind version _ <<<"$row"
      echo "$kind $version $(cm_image "$version")"
    done
    return 0
  fi
  if ! docker image inspect "$CM_BASE_IMAGE" >/dev/null 2>&1; then
    bed_log "$CM_BASE_IMAGE is missing: run test/bed/images.sh first"
    return 1
  fi
  for v in "${want[@]}"; do
    if [[ " ${CM_MATRIX[*]} " != *" $v "* || $v != v2.* ]]; then
      bed_log "containerd $v is not in the matrix (${CM_MATRIX[*]})"
      return 2
    fi
  done
  mkdir -p "$CM_DIR"
  for row in "${CM_MATRIX[@]}"; do
    read -r kind version pin <<<"$row"
    [[ ${#want[@]} -eq 0 || " ${want[*]} " == *" $version "* ]] || continue
    start=$SECONDS
    if cm_one "$kind" "$version" "$pin"; then
      bed_log "containerd $version (kind $kind): $(cm_image "$version") ready in $((SECONDS - start))s"
    else
      failed+=("$version")
      bed_log "containerd $version (kind $kind): CANNOT BE BUILT HERE (reason above)"
    fi
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    bed_log "not built: ${failed[*]}"
    return 1
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  cm_main "$@"
fi
