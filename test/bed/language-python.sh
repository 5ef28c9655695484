#!/usr/bin/env bash
# Builds the Pulumi Python language host (pulumi-language-python) from Go modules, for the test
# that uses the component from Python (test/consumer/python.test.ts). The program's own `pulumi`
# Python SDK comes from PyPI into the program's venv (`pulumi install`), pinned to the CLI's
# version, which is package-lock.json's @pulumi/pulumi as for the CLI (test/bed/pulumi-toolchain.sh).
#
# The host's module (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) has no
# tags, and the proxy here serves only some of its pseudo-versions: the commits of v3.184.0 and
# v3.169.0 (those of v3.224.0 and v3.248.0 answer 403), the same two as for the Node.js host. A
# language host speaks a stable gRPC protocol to the CLI and runs the program with the SDK found
# in the program's venv, so the 3.184.0 host serves newer CLIs, as the Node.js host does.
# Lands in $BED_CACHE/pulumi-language-python/<version>/, linked into $BED_BIN and next to the CLI
# (where the CLI looks first); a second run only checks (seconds).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

export GOFLAGS="-mod=mod -trimpath -buildvcs=false"
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi

# CLI version -> "<pkg/sdk version> <host module version>". Every CLI gets the 3.184.0 host.
langhost_versions() { echo "3.184.0 v3.0.0-20250718110245-a8f88047ab64"; }

main() {
  local cli pulumiv lhv
  cli=$(bed_lock_version @pulumi/pulumi)
  read -r pulumiv lhv < <(langhost_versions "$cli")
  local dir=$BED_CACHE/pulumi-language-python/$pulumiv
  if [[ -x $dir/pulumi-language-python && -x $dir/pulumi-language-python-exec ]]; then
    bed_log "pulumi-language-python $pulumiv: already built: $dir/pulumi-language-python"
  else
    local tmp=$dir.partial start=$SECONDS go
    go=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
    rm -rf "$tmp"
    mkdir -p "$tmp/src"
    # The host's go.mod replaces pkg and sdk with local directories (dropped: the wrapper requires
    # both modules at the host's version) and atotto/clipboard with a fork; pkg's also replaces
    # sergi/go-diff. Replaces of dependencies do not apply, so they are repeated here.
    cat >"$tmp/src/go.mod" <<MOD
module bed/pulumi-language-python

go 1.24.1

require (
	github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 $lhv
	github.com/pulumi/pulumi/pkg/v3 v$pulumiv
	github.com/pulumi/pulumi/sdk/v3 v$pulumiv
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

replace github.com/sergi/go-diff => github.com/sergi/go-diff v1.1.0
MOD
    (cd "$tmp/src" && nice -n 19 "$go" build \
      -ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumiv" \
      -o "$tmp/pulumi-language-python" github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
    # The host runs programs through a Python shim it expects next to itself; the shim ships in
    # the sdk/v3 module (python/cmd/), at the host's version.
    local sdkdir
    sdkdir=$(cd "$tmp/src" && "$go" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$tmp/pulumi-language-python-exec"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    bed_log "pulumi-language-python $pulumiv: built in $((SECONDS - start))s"
  fi
  # Linked, not copied: the host finds its shim next to its own resolved path.
  ln -sfn "$dir/pulumi-language-python" "$BED_BIN/pulumi-language-python"
  if [[ -d $BED_CACHE/pulumi/$cli ]]; then
    ln -sfn "$dir/pulumi-language-python" "$BED_CACHE/pulumi/$cli/pulumi-language-python"
  fi
  if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    bed_log "pulumi-language-python: needs python3 with venv (apt-get install python3-venv)"
    return 1
  fi
}

bed_step language-python main
