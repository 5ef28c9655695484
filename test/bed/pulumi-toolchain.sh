#!/usr/bin/env bash
# Builds the Pulumi toolchain the integration tests run, from Go modules only (nothing is
# downloaded from release pages, which this environment cannot reach):
#   pulumi                      the CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi), at
#                               $BED_PULUMI_CLI_VERSION (common.sh), not the lock file's SDK
#   pulumi-language-nodejs      the Node.js language host
#   pulumi-resource-command     \  the plugins the dev stack and the tests use, at the versions
#   pulumi-resource-kubernetes  /  the npm SDKs in package-lock.json ask for
#   kind                        sigs.k8s.io/kind (its default node image is Kubernetes 1.34)
# and, asked for by name, the language hosts of the tests that use the component from another
# language (test/consumer): `yaml` (pulumi-language-yaml) and `python` (pulumi-language-python
# with the CLI of its own release, see python_host); and `docker-build`, what LocalImage needs
# (pulumi-resource-docker-build and the docker CLI's buildx plugin, see docker_build).
# Each lands in $BED_CACHE/<tool>/<version>/ and is linked into $BED_BIN. A tool already built
# for that version is not built again, so a second run takes seconds. The resource plugins are
# also linked into $PULUMI_HOME/plugins/resource-<name>-v<version>/, where the engine looks for
# them; source test/bed/env.sh to use the result.
#
# The Go module proxy reachable here is filtered: many module versions answer 403, and the
# provider modules have no `provider/vX.Y.Z` tags at all, so they exist only as pseudo-versions.
# The maps below say, for each npm SDK version, which module version builds the matching plugin.
# A version missing from a map cannot be built here: change package.json to a mapped version.
# Usage: test/bed/pulumi-toolchain.sh [cli X.Y.Z | yaml | python | docker-build]
# (KIND_DEV_BED_CACHE moves the cache). It exits 1 when a plugin cannot be built.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BED_PULUMI_HOME=$BED_CACHE/pulumi-home

export GOFLAGS="-mod=mod -trimpath -buildvcs=false"
# Several pulumi module versions served by the proxy are absent from the checksum database
# (lookups answer 404), e.g. pkg/v3@v3.248.0, so these two prefixes skip it: their hashes are
# recorded in the wrapper's go.sum on first download instead of being checked there.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi,github.com/kreuzwerker
LDFLAGS_BASE="-s -w"

# --- version maps: npm version -> Go module version ------------------------------------------

# Pulumi CLI: pkg/v3 and sdk/v3 are tagged for every release; v3.276.0 and v3.248.0 build.
# The sdk/v3 version the CLI is built with: the release's, except for 3.184.0, whose sdk/v3 tag
# is an earlier commit than its pkg/v3 tag (12:25 and 13:15 UTC on 2025-07-18): pkg/v3 v3.184.0
# uses apitype.PackageMetadata.Parameterization, which sdk/v3 v3.184.0 lacks. sdk/v3 v3.185.0 is
# the next version the proxy serves; its gRPC protocol (proto/) is the same as v3.184.0's.
cli_sdk_version() {
  case $1 in
    3.184.0) echo v3.185.0 ;;
    *) echo "v$1" ;;
  esac
}

# Node.js language host: its module has no tags, and of all its pseudo-versions only the commits
# of v3.184.0 and v3.169.0 are downloadable (the release commits of 3.185.0 to 3.259.0 and the
# newest commits seen answer 403; see CONTRIBUTING.md). A language host speaks a stable gRPC
# protocol to the CLI and runs the program with the @pulumi/pulumi found in node_modules, so
# 3.184.0 serves CLI 3.276.0 with SDKs 3.248.0 (Node 20) to 3.276.0 (Node 24); the end-to-end
# suite runs both. Output: "<pkg/sdk version> <language host module version>".
langhost_versions() { echo "3.184.0 v3.0.0-20250718110245-a8f88047ab64"; }

# github.com/pulumi/pulumi-command/provider: the only downloadable version is v0.9.2 plus 18
# dependency-bump commits (Jan 2024). Stamped 0.9.2. Its pulumi-go-provider (a v0.13.1
# pre-release) panics in the Cancel call that CLI 3.248 makes at the end of every operation, so
# the wrapper requires pulumi-go-provider v0.16.0 (cancel middleware rewritten; same API for this
# code). Output: "<module version> [<extra requirement module@version>...]".
command_module_version() {
  case $1 in
    0.9.2) echo v0.0.0-20240112221901-2fe00b62fa4d github.com/pulumi/pulumi-go-provider@v0.16.0 ;;
    *) return 1 ;;
  esac
}

# github.com/pulumi/pulumi-kubernetes/provider/v4: downloadable pseudo-versions (module .mod and
# .zip both served) closest to a release. Each is stamped with the npm version it is mapped to
# (the plugin reports it and is installed as resource-kubernetes-v<npm version>), because the
# SDK asks the engine for exactly that version.
#
# 4.29.0 is built from v4.29.0 + 7 commits (ec3b5cbc2087, 2026-04-21), the newest provider the
# proxy serves: the tagged commit and the 6 after it answer 403, and so does every commit of
# 4.30.0 or later. Five of the 7 commits change CI workflows only; the other two change only
# provider/go.mod: go-git v5.18.0 (a security fix) and the Kubernetes client libraries 0.35.2 ->
# 0.35.4. The schema the plugin serves is the release's, the one SDK 4.29.0 was generated from.
# The proxy refuses this version's .info, which `go mod download` needs, so its files are found
# through a wrapper module (wrapped_module_files).
kubernetes_module_version() {
  case $1 in
    4.25.0) echo v4.0.0-20260115033456-f47bc2d6f199 ;; # the v4.25.0 commit itself
    4.27.0) echo v4.0.0-20260304044920-867400a6a208 ;; # v4.27.0 + 2 commits (SDK/test deps only)
    4.29.0) echo v4.0.0-20260421181658-ec3b5cbc2087 ;; # v4.29.0 + 7 commits, see above
    *) return 1 ;;
  esac
}

# github.com/pulumi/pulumi-docker-build: its releases are tagged and served. v0.0.22's go.mod asks
# for pulumi-java v1.29.0 and pulumi-language-dotnet/v3 v3.107.0, whose .zip the proxy refuses
# (403); dotnet v3.110.0 is the nearest served, and it raises pkg/v3 to v3.255.0, which needs
# pulumi-java >= v1.33.0 (DocLanguageHelper.ResolveDocRef) and pulumi-go-provider >= v1.4.0
# (PackageSpec.Provider became a pointer in pkg/v3 v3.248). The provider takes from java and
# dotnet only the types of its schema's language sections (SDK generation settings). Output as
# command_module_version's.
docker_build_module_version() {
  case $1 in
    0.0.22)
      echo v0.0.22 github.com/pulumi/pulumi-java@v1.33.0 \
        github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3@v3.110.0 github.com/pulumi/pulumi-go-provider@v1.4.1
      ;;
    *) return 1 ;;
  esac
}

# --- helpers ---------------------------------------------------------------------------------

FAILED=()

# The go.mod of MODULE@VERSION in the module cache (downloaded if needed).
gomod_file() {
  local info
  info=$(go mod download -json "$1@$2") || {
    jq -r .Error <<<"$info" >&2
    return 1
  }
  jq -r .GoMod <<<"$info"
}

# wrapped_module_files MODULE VERSION PACKAGE: "<source dir> <go.mod file>" of MODULE@VERSION in
# the module cache (downloaded if needed). `go mod download` reads the version's .info, which the
# proxy refuses for some versions whose .mod and .zip it serves; listing PACKAGE, one of the
# module's packages, from a throwaway module that requires it reads only those two.
wrapped_module_files() {
  local tmp out rc=0
  tmp=$(mktemp -d)
  printf 'module bed/probe\n\ngo 1.21\n\nrequire %s %s\n' "$1" "$2" >"$tmp/go.mod"
  out=$(cd "$tmp" && go list -f '{{.Module.Dir}} {{.Module.GoMod}}' "$3") || rc=$?
  rm -rf "$tmp"
  ((rc == 0)) && echo "$out"
}

# `replace` lines of the given go.mod files, without the ones pointing at a local directory
# (those name modules of the same repository, which the wrapper requires at a version instead).
# A module replaced by several files keeps the first file's replacement.
nonlocal_replaces() {
  local f
  for f in "$@"; do go mod edit -json "$f"; done |
    jq -rs '[.[].Replace // [] | .[] | select(.New.Version)] | reduce .[] as $r ({}; .[$r.Old.Path] //= $r)
      | .[] | "replace \(.Old.Path)\(if .Old.Version then " " + .Old.Version else "" end) => \(.New.Path) \(.New.Version)"'
}

# The `go` directive of a go.mod file.
go_directive() { awk '$1 == "go" { print $2; exit }' "$1"; }

# build_tool TOOL VERSION BINARY FUNCTION [ARG...]: bed_build_tool into $BED_CACHE/TOOL/VERSION
# (FUNCTION OUTDIR ARG... must leave OUTDIR/BINARY); then links BINARY into $BED_BIN.
build_tool() {
  local dir=$BED_CACHE/$1/$2
  bed_build_tool "$dir" "$3" "${@:4}" || {
    FAILED+=("$1 $2 (build failed)")
    return 0
  }
  ln -sfn "$dir/$3" "$BED_BIN/$3"
}

# wrapper_gomod NAME GO.MOD... -- MODULE VERSION...: ./go.mod of module bed/NAME requiring each
# MODULE at VERSION, with the first GO.MOD's `go` directive and the non-local replaces of each.
wrapper_gomod() {
  local name=$1 mods=()
  shift
  while [[ $1 != -- ]]; do
    mods+=("$1")
    shift
  done
  shift
  {
    printf 'module bed/%s\n\ngo %s\n\nrequire (\n' "$name" "$(go_directive "${mods[0]}")"
    printf '\t%s %s\n' "$@"
    echo ")"
    nonlocal_replaces "${mods[@]}"
  } >go.mod
}

# mapped_wrapper NAME MODULE MAPFN VERSION: wrapper_gomod for MODULE at the module version MAPFN
# gives for the npm VERSION, plus the extra requirements MAPFN names.
mapped_wrapper() {
  local modv extra req
  read -r modv extra < <("$3" "$4")
  local reqs=("$2" "$modv")
  for req in $extra; do reqs+=("${req%@*}" "${req#*@}"); done
  wrapper_gomod "$1" "$(gomod_file "$2" "$modv")" -- "${reqs[@]}"
}

# link_hosts CLI_VERSION HOST...: links the language hosts (langhost_versions' release) next to
# the CLI, where it looks first (see env.sh).
link_hosts() {
  local cli=$BED_CACHE/pulumi/$1 lhv host
  lhv=$(langhost_versions | cut -d' ' -f1)
  for host in "${@:2}"; do
    if [[ ! -x $BED_CACHE/$host/$lhv/$host || ! -d $cli ]]; then
      bed_log "$host: no $BED_CACHE/$host/$lhv/$host or $cli (run test/bed/pulumi-toolchain.sh)"
      return 1
    fi
    ln -sfn "$BED_CACHE/$host/$lhv/$host" "$cli/$host"
  done
}

# --- builders (run inside OUTDIR/src) --------------------------------------------------------

build_pulumi_cli() {
  local out=$1 modv=v$PULUMI_VERSION
  wrapper_gomod pulumi-cli "$(gomod_file github.com/pulumi/pulumi/pkg/v3 "$modv")" -- \
    github.com/pulumi/pulumi/pkg/v3 "$modv" \
    github.com/pulumi/pulumi/sdk/v3 "$(cli_sdk_version "$PULUMI_VERSION")"
  go build -ldflags="$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$modv" \
    -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

# build_langhost OUTDIR LANGUAGE: the language host of the commit langhost_versions names.
build_langhost() {
  local out=$1 lang=$2 pulumiv lhv
  read -r pulumiv lhv < <(langhost_versions)
  local module=github.com/pulumi/pulumi/sdk/$lang/cmd/pulumi-language-$lang/v3 pkg=github.com/pulumi/pulumi/pkg/v3
  wrapper_gomod "pulumi-language-$lang" "$(gomod_file "$module" "$lhv")" "$(gomod_file "$pkg" "v$pulumiv")" -- \
    "$module" "$lhv" "$pkg" "v$pulumiv" github.com/pulumi/pulumi/sdk/v3 "v$pulumiv"
  go build -ldflags="$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumiv" \
    -o "$out/pulumi-language-$lang" "$module"
  if [[ $lang == python ]]; then
    # The host runs programs through a Python shim it expects next to itself; the shim ships in
    # the sdk/v3 module (python/cmd/), at the host's version.
    install -m 0755 "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/python/cmd/pulumi-language-python-exec" "$out/"
  fi
}

build_command() {
  local out=$1
  mapped_wrapper pulumi-resource-command github.com/pulumi/pulumi-command/provider command_module_version "$COMMAND_VERSION"
  go build -ldflags="$LDFLAGS_BASE -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" \
    -o "$out/pulumi-resource-command" github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command
}

# Writes schema-embed.json (SCHEMA with its version set, compact) and terraform-mapping-embed.json
# (MAPPING, compact): what the provider's `go generate` step makes.
write_embeds() {
  jq -cj --arg v "$2" '.version = $v' "$1" >schema-embed.json
  jq -cj . "$3" >terraform-mapping-embed.json
}

# The provider's own main package embeds files made by `go generate`, which are not in the module
# zip, so the wrapper module has its own main package that embeds the same data.
build_kubernetes() {
  local out=$1 modv
  modv=$(kubernetes_module_version "$KUBERNETES_VERSION")
  local module=github.com/pulumi/pulumi-kubernetes/provider/v4 files dir mod src
  files=$(wrapped_module_files "$module" "$modv" "$module/pkg/version")
  read -r dir mod <<<"$files"
  src=$dir/cmd/pulumi-resource-kubernetes
  wrapper_gomod pulumi-resource-kubernetes "$mod" -- "$module" "$modv"
  write_embeds "$src/schema.json" "$KUBERNETES_VERSION" "$src/terraform-mapping.json"
  cat >main.go <<'EOF'
// The kubernetes resource plugin, served from the provider module's own packages.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
EOF
  go build -ldflags="$LDFLAGS_BASE -X $module/pkg/version.Version=$KUBERNETES_VERSION" \
    -o "$out/pulumi-resource-kubernetes" .
}

build_kind() {
  local out=$1
  # `go install pkg@version` builds outside any module: -mod does not apply there.
  GOFLAGS="-trimpath -buildvcs=false" GOBIN=$out go install -ldflags="$LDFLAGS_BASE" "sigs.k8s.io/kind@$BED_KIND_VERSION"
}

# --- main ------------------------------------------------------------------------------------

# A plugin whose npm version has no module version in its map is reported, not built.
plugin() {
  local name=$1 version=$2 mapfn=$3 buildfn=$4
  if ! "$mapfn" "$version" >/dev/null; then
    bed_log "pulumi-resource-$name $version: NOT BUILDABLE: no downloadable Go module version is mapped to @pulumi/$name $version (see ${mapfn}() in $0)"
    FAILED+=("pulumi-resource-$name $version (no module version mapped)")
    return 0
  fi
  build_tool "pulumi-resource-$name" "$version" "pulumi-resource-$name" "$buildfn"
  # Where the engine finds the plugin at that version without downloading it.
  local bin=$BED_CACHE/pulumi-resource-$name/$version/pulumi-resource-$name
  local dir=$BED_PULUMI_HOME/plugins/resource-$name-v$version
  if [[ -x $bin ]]; then
    mkdir -p "$dir"
    rm -f "$dir.partial" "$dir.lock"
    ln -sfn "$bin" "$dir/pulumi-resource-$name"
  fi
}

main() {
  PULUMI_VERSION=$BED_PULUMI_CLI_VERSION
  COMMAND_VERSION=$(bed_lock_version @pulumi/command)
  KUBERNETES_VERSION=$(bed_lock_version @pulumi/kubernetes)
  local lhv
  lhv=$(langhost_versions | cut -d' ' -f1)
  bed_log "Pulumi CLI $PULUMI_VERSION; package-lock.json: @pulumi/pulumi $(bed_lock_version @pulumi/pulumi), @pulumi/command $COMMAND_VERSION, @pulumi/kubernetes $KUBERNETES_VERSION"

  build_tool pulumi "$PULUMI_VERSION" pulumi build_pulumi_cli
  build_tool pulumi-language-nodejs "$lhv" pulumi-language-nodejs build_langhost nodejs
  link_hosts "$PULUMI_VERSION" pulumi-language-nodejs || true
  plugin command "$COMMAND_VERSION" command_module_version build_command
  plugin kubernetes "$KUBERNETES_VERSION" kubernetes_module_version build_kubernetes
  build_tool kind "$BED_KIND_VERSION" kind build_kind

  bed_log "tools in $BED_BIN: $(cd "$BED_BIN" && printf '%s ' *)"
  bed_log "plugins in $BED_PULUMI_HOME/plugins: $(cd "$BED_PULUMI_HOME/plugins" 2>/dev/null && printf '%s ' *)"
  missing
}

missing() {
  if ((${#FAILED[@]})); then
    local f
    for f in "${FAILED[@]}"; do bed_log "MISSING: $f"; done
    return 1
  fi
}

# `cli VERSION`: only the CLI at VERSION, in $BED_CACHE/pulumi/VERSION/, not linked into $BED_BIN.
only_cli() {
  PULUMI_VERSION=$1
  bed_build_tool "$BED_CACHE/pulumi/$1" pulumi build_pulumi_cli
}

# `yaml`: the YAML language host, github.com/pulumi/pulumi-yaml v1.30.0, whose go.mod requires
# pkg/v3 and sdk/v3 v3.224.0 (the proxy serves all three).
YAML_VERSION=1.30.0
build_yaml() {
  local out=$1 yaml=github.com/pulumi/pulumi-yaml pkg=github.com/pulumi/pulumi/pkg/v3
  wrapper_gomod pulumi-language-yaml "$(gomod_file "$yaml" "v$YAML_VERSION")" "$(gomod_file "$pkg" v3.224.0)" -- \
    "$yaml" "v$YAML_VERSION" "$pkg" v3.224.0 github.com/pulumi/pulumi/sdk/v3 v3.224.0
  go build -ldflags="$LDFLAGS_BASE -X $yaml/pkg/version.Version=v$YAML_VERSION" \
    -o "$out/pulumi-language-yaml" "$yaml/cmd/pulumi-language-yaml"
}
yaml_host() {
  build_tool pulumi-language-yaml "$YAML_VERSION" pulumi-language-yaml build_yaml
  missing
}

# `python`: the Python language host, at the commit the Node.js host is built from (the proxy
# serves the same two commits of its module, v3.184.0's and v3.169.0's). The CLI links a generated
# SDK into a program through the host's Link call, whose request changed shape in 3.203.0
# (pulumi/pulumi#20612): a newer CLI fails there with `grpc: error unmarshalling request`. So
# Python programs run on the CLI of the host's own release (`cli <version>`), with both language
# hosts linked next to it, where the CLI looks first. The program's `pulumi` Python SDK comes from
# PyPI at that version.
python_host() {
  local pulumiv
  pulumiv=$(langhost_versions | cut -d' ' -f1)
  # Linked, not copied: the host finds its shim next to its own resolved path.
  build_tool pulumi-language-python "$pulumiv" pulumi-language-python build_langhost python
  missing
  only_cli "$pulumiv"
  link_hosts "$pulumiv" pulumi-language-python pulumi-language-nodejs
  if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    bed_log "pulumi-language-python: needs python3 with venv (apt-get install python3-venv)"
    return 1
  fi
}

# `docker-build`: pulumi-resource-docker-build at the lock file's @pulumi/docker-build, and the
# docker CLI's buildx plugin, which the provider runs in exec mode (`docker buildx build`, with
# the Docker daemon's own BuildKit). Debian's docker.io has no buildx, and no Debian package
# provides it: it is built from its Go module and linked where the docker CLI looks for plugins,
# only when `docker buildx` does not already work (a buildx the machine has is kept).
BUILDX_VERSION=v0.35.0
build_docker_build() {
  local out=$1 module=github.com/pulumi/pulumi-docker-build
  mapped_wrapper pulumi-resource-docker-build "$module" docker_build_module_version "$DOCKER_BUILD_VERSION"
  go build -ldflags="$LDFLAGS_BASE -X $module/provider.Version=v$DOCKER_BUILD_VERSION" \
    -o "$out/pulumi-resource-docker-build" "$module/provider/cmd/pulumi-resource-docker-build"
}
build_buildx() {
  local out=$1 module=github.com/docker/buildx
  wrapper_gomod docker-buildx "$(gomod_file "$module" "$BUILDX_VERSION")" -- "$module" "$BUILDX_VERSION"
  go build -ldflags="$LDFLAGS_BASE -X $module/version.Version=$BUILDX_VERSION" \
    -o "$out/docker-buildx" "$module/cmd/buildx"
}
docker_build() {
  DOCKER_BUILD_VERSION=$(bed_lock_version @pulumi/docker-build) || {
    bed_log "docker-build: @pulumi/docker-build is not in package-lock.json"
    return 1
  }
  plugin docker-build "$DOCKER_BUILD_VERSION" docker_build_module_version build_docker_build
  build_tool docker-buildx "$BUILDX_VERSION" docker-buildx build_buildx
  missing
  local have plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
  if have=$(docker buildx version 2>/dev/null); then
    bed_log "docker buildx: already works, left as it is: $have"
  else
    mkdir -p "$plugins"
    ln -sfn "$BED_CACHE/docker-buildx/$BUILDX_VERSION/docker-buildx" "$plugins/docker-buildx"
    bed_log "docker buildx: linked $plugins/docker-buildx: $(docker buildx version)"
  fi
}

usage() {
  bed_log "usage: $0 [cli X.Y.Z | yaml | python | docker-build]"
  exit 2
}
case "${1-}:$#" in
  :0) bed_step pulumi-toolchain main ;;
  cli:2)
    [[ $2 =~ ^[0-9]+[.][0-9]+[.][0-9]+$ ]] || usage
    bed_step pulumi-cli only_cli "$2"
    ;;
  yaml:1) bed_step language-yaml yaml_host ;;
  python:1) bed_step language-python python_host ;;
  docker-build:1) bed_step docker-build docker_build ;;
  *) usage ;;
esac
