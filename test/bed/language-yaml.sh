#!/usr/bin/env bash
# Builds the Pulumi YAML language host (pulumi-language-yaml) from Go modules, for the test that
# uses the component from a second language (test/consumer/yaml.test.ts). YAML rather than
# Python: the YAML host is one Go module the proxy here serves (github.com/pulumi/pulumi-yaml
# v1.30.0 and its dependencies, pkg/sdk v3.224.0), while the Python host would also need a
# Python SDK matched to the CLI. Lands in $BED_CACHE/pulumi-language-yaml/<version>/ and is linked
# into $BED_BIN; a second run only checks (seconds). About 90 s cold with warm Go caches.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

YAML_VERSION=1.30.0
# pulumi-yaml v1.30.0's go.mod requires pkg/v3 and sdk/v3 v3.224.0; pkg's own go.mod replaces
# sdk with a local directory (dropped: the wrapper requires the sdk module at that version) and
# atotto/clipboard with a fork (repeated here: replaces of dependencies do not apply).
PULUMI_MODULES_VERSION=v3.224.0
export GOFLAGS="-mod=mod -trimpath -buildvcs=false"
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi

main() {
  local dir=$BED_CACHE/pulumi-language-yaml/$YAML_VERSION
  if [[ -x $dir/pulumi-language-yaml ]]; then
    bed_log "pulumi-language-yaml $YAML_VERSION: already built: $dir/pulumi-language-yaml"
  else
    local tmp=$dir.partial start=$SECONDS
    rm -rf "$tmp"
    mkdir -p "$tmp/src"
    cat >"$tmp/src/go.mod" <<MOD
module bed/pulumi-language-yaml

go 1.25.0

require (
	github.com/pulumi/pulumi-yaml v$YAML_VERSION
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_MODULES_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_MODULES_VERSION
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
    (cd "$tmp/src" && go build -ldflags="-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$YAML_VERSION" \
      -o "$tmp/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
    rm -rf "$dir"
    mv "$tmp" "$dir"
    bed_log "pulumi-language-yaml $YAML_VERSION: built in $((SECONDS - start))s"
  fi
  ln -sfn "$dir/pulumi-language-yaml" "$BED_BIN/pulumi-language-yaml"
}

bed_step language-yaml main
