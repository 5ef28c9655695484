#!/usr/bin/env bash
# The real clients the workflow tests drive, built from their Go modules (nothing can be
# downloaded as a release binary here), cached by version and linked into $BED_BIN:
#   tilt    github.com/tilt-dev/tilt/cmd/tilt v0.37.6, cgo (`tilt ci` finds the registry through
#           the KEP-1755 ConfigMap, builds with docker, pushes, deploys)
#   crane   github.com/google/go-containerregistry/cmd/crane v0.22.1
# and one image, kind-dev-bed/crane:v0.22.1: crane plus Debian's busybox-static (sh, tar,
# ...), FROM scratch, for builds that run inside the cluster.
#   test/bed/workflow-clients.sh [tilt|crane|crane-image]...   (default: all three)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TILT_VERSION=v0.37.6
CRANE_VERSION=v0.22.1
CRANE_IMAGE=kind-dev-bed/crane:$CRANE_VERSION

build_tilt() {
  local modver=github.com/tilt-dev/tilt@$TILT_VERSION
  # Built as a release (main.version set, as Tilt's goreleaser does): a build without it counts
  # as a dev build and wants the web UI's webpack dev server. A release serves its web UI from
  # files embedded from pkg/assets/build, which Tilt's CI compiles with yarn and the Go module
  # does not ship. `tilt ci` never shows the UI, so the build uses a copy of the module's files
  # (from the module proxy) with one placeholder page added there.
  local out=$BED_CACHE/tilt/$TILT_VERSION
  if [[ ! -x $out/tilt ]]; then
    local dir src=$BED_CACHE/tilt/src-$TILT_VERSION
    dir=$(cd "$BED_CACHE" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$modver" | jq -r .Dir)
    rm -rf "$src"
    mkdir -p "$(dirname "$src")"
    cp -r "$dir" "$src"
    chmod -R u+w "$src"
    printf '<!doctype html><title>Tilt</title><p>Web UI not built (pulumi-kind-dev test bed).</p>\n' \
      >"$src/pkg/assets/build/index.html"
    # Tilt's go.sum carries a hash for docker/buildx v0.32.1 that the module proxy's copy does
    # not match; the line is dropped and Go records the proxy's hash. cgo: Tilt's Starlark
    # language server links tree-sitter (C).
    BED_GO_SUM_DROP="github.com/docker/buildx v0.32.1" BED_GO_REPLACE="github.com/tilt-dev/tilt=$src" \
      bed_go_tool tilt tilt 1 "-s -w -X main.version=${TILT_VERSION#v} -X main.date=2026-01-01" \
      "$modver" github.com/tilt-dev/tilt/cmd/tilt
    rm -rf "$src"
  fi
  ln -sfn "$out/tilt" "$BED_BIN/tilt"
  bed_log "tilt: $BED_BIN/tilt ($("$out/tilt" version))"
}

build_crane() {
  bed_go_tool crane crane 0 "-s -w" "github.com/google/go-containerregistry@$CRANE_VERSION" \
    github.com/google/go-containerregistry/cmd/crane
}

build_crane_image() {
  build_crane
  local crane=$BED_CACHE/crane/$CRANE_VERSION/crane
  local ctx=$BED_CACHE/crane-image
  mkdir -p "$ctx/deb"
  if ! compgen -G "$ctx/deb/busybox-static_*.deb" >/dev/null; then
    if ! (cd "$ctx/deb" && apt-get download busybox-static >/dev/null 2>&1); then
      apt-get update -qq && (cd "$ctx/deb" && apt-get download busybox-static >/dev/null)
    fi
  fi
  local deb
  deb=$(compgen -G "$ctx/deb/busybox-static_*.deb")
  local recipe
  recipe=$( (sha256sum "$crane" "$deb" | awk '{print $1}') | sha256sum | cut -c1-32)
  if [[ $(image_recipe "$CRANE_IMAGE") == "$recipe" ]]; then
    bed_log "crane image: $CRANE_IMAGE (current)"
    return
  fi
  rm -rf "$ctx/root" "$ctx/x"
  dpkg -x "$deb" "$ctx/x"
  mkdir -p "$ctx/root/bin" "$ctx/root/usr/local/bin" "$ctx/root/tmp"
  cp "$ctx/x/bin/busybox" "$ctx/root/bin/busybox"
  local applet
  for applet in sh tar mkdir cp cat echo ls sleep printf wget; do
    ln -sfn busybox "$ctx/root/bin/$applet"
  done
  cp "$crane" "$ctx/root/usr/local/bin/crane"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY root/ /
ENV PATH=/usr/local/bin:/bin
ENTRYPOINT ["/bin/sh"]
EOF
  DOCKER_BUILDKIT=0 docker build -q --label "$RECIPE_LABEL=$recipe" -t "$CRANE_IMAGE" "$ctx" >/dev/null
  bed_log "crane image: built $CRANE_IMAGE"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(crane-image tilt)
for target in "${targets[@]}"; do
  case $target in
    tilt) build_tilt ;;
    crane) build_crane ;;
    crane-image) build_crane_image ;;
    *)
      echo "usage: $0 [tilt|crane|crane-image]..." >&2
      exit 2
      ;;
  esac
done
