#!/usr/bin/env bash
# Builds the Pulumi toolchain a Python program runs on here, for the test that uses the component
# from Python (test/consumer/python.test.ts): the Python language host (pulumi-language-python)
# and the CLI of the same release, from Go modules.
#
# The host's module (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) has no
# tags, and the proxy here serves only some of its pseudo-versions: the commits of v3.184.0 and
# v3.169.0 (those of v3.203.0 to v3.248.0 answer 403), the same two as for the Node.js host. The
# CLI links a generated SDK into a program through the host's Link call, whose request changed
# shape in 3.203.0 (pulumi/pulumi#20612): a newer CLI fails there with `grpc: error unmarshalling
# request`. So Python programs run on the CLI of the host's own release, built by
# `pulumi-toolchain.sh cli <version>` into $BED_CACHE/pulumi/<version>/ (not linked into
# $BED_BIN, whose CLI stays the bed's), with both language hosts linked next to it, where the CLI
# looks first. The program's `pulumi` Python SDK comes from PyPI at that version.
# The host lands in $BED_CACHE/pulumi-language-python/<version>/, linked into $BED_BIN too; a
# second run only checks (seconds).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

export GOFLAGS="-mod=mod -trimpath -buildvcs=false"
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi

# "<pkg/sdk and CLI version> <host module version>": the v3.184.0 commit.
langhost_versions() { echo "3.184.0 v3.0.0-20250718110245-a8f88047ab64"; }

main() {
  local pulumiv lhv
  read -r pulumiv lhv < <(langhost_versions)
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
  bash "$BED_DIR/pulumi-toolchain.sh" cli "$pulumiv"
  local nodejs=$BED_CACHE/pulumi-language-nodejs/$pulumiv/pulumi-language-nodejs
  if [[ ! -x $nodejs ]]; then
    bed_log "pulumi-language-python: no $nodejs (run test/bed/pulumi-toolchain.sh)"
    return 1
  fi
  ln -sfn "$dir/pulumi-language-python" "$BED_CACHE/pulumi/$pulumiv/pulumi-language-python"
  ln -sfn "$nodejs" "$BED_CACHE/pulumi/$pulumiv/pulumi-language-nodejs"
  if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    bed_log "pulumi-language-python: needs python3 with venv (apt-get install python3-venv)"
    return 1
  fi
}

bed_step language-python main
