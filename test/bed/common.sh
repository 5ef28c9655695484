# shellcheck shell=bash
# Shared by every test-bed script: where results are cached and how steps report.
# Sourced, never run. The cache lives outside the repo and is keyed by version, so a
# second run of the test bed only checks what is already there.
set -euo pipefail

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BED_DIR/../.." && pwd)
BED_CACHE=${KIND_DEV_BED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kind-dev-bed}
# Every binary the bed builds is linked here; tests put this directory first on PATH.
BED_BIN=$BED_CACHE/bin
mkdir -p "$BED_BIN"
# The kind release the bed builds its CLI and node image for (node-image.sh has a recipe per
# release); KIND_DEV_BED_KIND_VERSION=v0.30.0 builds the older combination.
BED_KIND_DEFAULT_VERSION=v0.33.0
# shellcheck disable=SC2034 # used by the scripts that source this file
BED_KIND_VERSION=${KIND_DEV_BED_KIND_VERSION:-$BED_KIND_DEFAULT_VERSION}
# The Pulumi CLI the bed builds (pulumi-toolchain.sh): the newest release whose Go modules the
# proxy serves here. It runs every @pulumi/pulumi SDK in the supported range, so it does not
# follow the lock file (3.248.0, the last SDK for Node 20). KIND_DEV_BED_PULUMI_CLI_VERSION=3.248.0
# builds (or reuses) the previous one in its own directory.
# shellcheck disable=SC2034 # used by the scripts that source this file
BED_PULUMI_CLI_VERSION=${KIND_DEV_BED_PULUMI_CLI_VERSION:-3.276.0}

bed_log() { printf '[testbed] %s\n' "$*" >&2; }

# For -h and --help: the running script's opening comment, its ShellCheck directives left out.
bed_help() { sed -n '1d; /^#/!q; /^# shellcheck/d; s/^# \{0,1\}//p' "$0"; }

# Every image the bed builds carries the hash of its recipe in this label.
RECIPE_LABEL=kind-dev-bed.recipe
image_recipe() { docker image inspect -f "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null || true; }

# Version of an npm package as pinned by package-lock.json.
bed_lock_version() {
  node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/"+process.argv[2]];if(!p){process.exit(1)}console.log(p.version)' \
    "$REPO_DIR/package-lock.json" "$1"
}

# bed_has_line TEXT LINE: true when LINE is one of TEXT's lines. Matching a captured value, never
# a pipe into `grep -q`: under pipefail an early-exiting reader can kill its producer (SIGPIPE)
# and turn a match into a failure.
bed_has_line() {
  local line
  while IFS= read -r line; do
    [[ $line == "$2" ]] && return 0
  done <<<"$1"
  return 1
}

# bed_deb_installed PKG: true when the Debian package is installed.
bed_deb_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == *"ok installed" ]]
}

# Runs a named step and prints how long it took.
bed_step() {
  local name=$1
  shift
  local start=$SECONDS
  bed_log "step $name: start"
  "$@"
  bed_log "step $name: done in $((SECONDS - start))s"
}

# bed_go_build OUT CGO TAGS LDFLAGS MOD@VERSION PKG...
# Builds main packages of one module version into the directory OUT, from a wrapper module that
# requires it: `go install PKG@VERSION` refuses modules whose go.mod has exclude or replace
# directives. The module's go.sum is copied (its dependencies are checked against the hashes it
# shipped with; the checksum database here lacks some versions, e.g. k8s.io/cri-api
# v0.34.0-rc.2), its excludes are repeated, and so are its replaces that point at other modules
# (one pointing at a ../dir cannot be), so versions resolve as in the module's own build.
# Wrapper modules live under $BED_GO_SRC (default $BED_CACHE/go-src). Every build shares Go's
# default build cache, so a module's later versions rebuild only what changed. Runs under
# `nice -n 19` with the local toolchain; $BED_GO_FLAGS adds go build flags (-buildmode=pie);
# $BED_GO_SUM_DROP and $BED_GO_REPLACE are described where they apply.
bed_go_build() {
  local out=$1 cgo=$2 tags=$3 ldf=$4 modver=$5
  shift 5
  local mod=${modver%@*} ver=${modver#*@} go
  go=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
  if [[ ! -x $go ]] || ! command -v jq >/dev/null 2>&1; then
    bed_log "bed_go_build: needs Go (on PATH or /usr/local/go/bin/go) and jq"
    return 1
  fi
  local src=${BED_GO_SRC:-$BED_CACHE/go-src}
  local dir=$src/wrap-${modver//[\/@]/_}
  mkdir -p "$dir" "$out"
  local info gomod godir
  info=$(cd "$src" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" mod download -json "$modver")
  gomod=$(jq -r .GoMod <<<"$info")
  godir=$("$go" mod edit -json "$gomod" | jq -r '.Go // "1.21"')
  printf 'module bed.local/wrap\n\ngo %s\n\nrequire %s %s\n' "$godir" "$mod" "$ver" >"$dir/go.mod"
  rm -f "$dir/go.sum"
  cp "$(jq -r .Dir <<<"$info")/go.sum" "$dir/go.sum" 2>/dev/null || true
  chmod u+w "$dir/go.sum" 2>/dev/null || true
  # $BED_GO_SUM_DROP: a "module version" pair whose lines in the shipped go.sum are dropped
  # (a hash the proxy no longer matches); Go then records the proxy's own hash.
  if [[ -n ${BED_GO_SUM_DROP:-} && -f $dir/go.sum ]]; then
    local kept
    kept=$(awk -v drop="$BED_GO_SUM_DROP" '($1 " " $2) != drop && ($1 " " $2) != (drop "/go.mod")' "$dir/go.sum")
    printf '%s\n' "$kept" >"$dir/go.sum"
  fi
  local e
  for e in $("$go" mod edit -json "$gomod" | jq -r '(.Exclude // [])[] | .Path + "@" + .Version'); do
    "$go" mod edit -exclude="$e" "$dir/go.mod"
  done
  for e in $("$go" mod edit -json "$gomod" | jq -r '(.Replace // [])[] | select(.New.Version != null) |
      (.Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)) + "=" + .New.Path + "@" + .New.Version'); do
    "$go" mod edit -replace="$e" "$dir/go.mod"
  done
  # $BED_GO_REPLACE: "module=dir" pairs (space-separated) the build takes from a local copy.
  for e in ${BED_GO_REPLACE:-}; do
    "$go" mod edit -replace="$e" "$dir/go.mod"
  done
  # One `go build` for all packages: they are loaded once, and -o DIR/ names each binary
  # after its package.
  (cd "$dir" && CGO_ENABLED=$cgo GOTOOLCHAIN=local GOFLAGS="-mod=mod ${BED_GO_FLAGS:-}" \
    nice -n 19 "$go" build -trimpath -tags "$tags" -ldflags "$ldf" -o "$out/" "$@")
}

# bed_build_tool DIR BINARY FUNCTION [ARG...]: unless DIR/BINARY exists, runs FUNCTION OUT ARG...
# in OUT/src, OUT being a fresh DIR.partial, and moves OUT to DIR when it succeeds. A failed build
# keeps its work dir and returns 1.
bed_build_tool() {
  local dir=$1 binary=$2 fn=$3 what=${1#"$BED_CACHE"/}
  shift 3
  if [[ -x $dir/$binary ]]; then
    bed_log "$what: already built: $dir/$binary"
    return 0
  fi
  local tmp=$dir.partial start=$SECONDS rc=0
  rm -rf "$tmp"
  mkdir -p "$tmp/src"
  bed_log "$what: building (one build at a time; several minutes cold)"
  # errexit must hold inside the builder, which it would not in an `if` condition.
  set +e
  (
    set -e
    cd "$tmp/src"
    "$fn" "$tmp" "$@"
  )
  rc=$?
  set -e
  if ((rc != 0)); then
    bed_log "$what: BUILD FAILED after $((SECONDS - start))s (work dir kept: $tmp)"
    return 1
  fi
  rm -rf "$dir"
  mv "$tmp" "$dir"
  bed_log "$what: built in $((SECONDS - start))s: $dir/$binary"
}

# bed_go_tool DIR NAME CGO LDFLAGS MODULE@VERSION PACKAGE: PACKAGE's binary, built once by
# bed_go_build into $BED_CACHE/DIR/VERSION/NAME and linked into $BED_BIN.
bed_go_tool() {
  local dir=$BED_CACHE/$1/${5#*@}
  bed_build_tool "$dir" "$2" _bed_go_tool "${@:2}"
  ln -sfn "$dir/$2" "$BED_BIN/$2"
  bed_log "$2: $BED_BIN/$2"
}
_bed_go_tool() {
  bed_go_build "$1/src" "$3" "" "$4" "$5" "$6"
  mv "$1/src/${6##*/}" "$1/$2"
}
