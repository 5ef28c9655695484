#!/usr/bin/env bash
# The component provider's schema snapshot: `pulumi package get-schema provider` with the test
# bed's CLI and Node.js language host, compared with test/schema/kind-dev.schema.json. A change to
# the component's args, outputs or their JSDoc changes what every other language sees; review the
# diff, then `UPDATE_SCHEMA=1 npm run test:schema` records it.
# Also checks what the snapshot alone cannot: the schema's version is package.json's, and the
# TypeScript-only `provider` output stays out of it.
# Needs test/bed/pulumi-toolchain.sh (npm run testbed). Prints a plain "N passed, N failed" line.
# shellcheck source-path=SCRIPTDIR source=../bed/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../bed/common.sh"
# shellcheck source=../bed/env.sh
source "$BED_DIR/env.sh"

SNAPSHOT=$REPO_DIR/test/schema/kind-dev.schema.json

main() {
  local out passed=0 failed=0 start=$SECONDS
  out=$(mktemp --suffix=.json)
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -f '$out'" EXIT
  # Formatted as Prettier formats the committed snapshot (npm run lint checks it).
  (cd "$REPO_DIR" && pulumi package get-schema ./provider) |
    (cd "$REPO_DIR" && npx prettier --stdin-filepath "$SNAPSHOT") >"$out"
  bed_log "schema: pulumi package get-schema took $((SECONDS - start))s"

  if [[ ${UPDATE_SCHEMA:-} == 1 ]]; then
    cp "$out" "$SNAPSHOT"
    bed_log "schema: recorded $SNAPSHOT"
  fi
  if diff -u "$SNAPSHOT" "$out"; then
    passed=$((passed + 1))
  else
    bed_log "schema: differs from $SNAPSHOT (UPDATE_SCHEMA=1 records it after review)"
    failed=$((failed + 1))
  fi

  local problems
  problems=$(jq -r --slurpfile pkg "$REPO_DIR/package.json" '
    .resources["kind-dev:index:KindDevEnvironment"] as $env | (.resources // {} | keys_unsorted | join(",")) as $r
    | if .name != "kind-dev" then "name \(.name), expected kind-dev" else empty end,
      if .version != $pkg[0].version then "version \(.version), package.json has \($pkg[0].version)" else empty end,
      if $r != "kind-dev:index:KindDevEnvironment" then "resources \($r), expected kind-dev:index:KindDevEnvironment" else empty end,
      if $env.isComponent | not then "KindDevEnvironment is not a component" else empty end,
      if $env.properties // {} | has("provider") then "the TypeScript-only provider output is in the schema" else empty end,
      if .dependencies // [] | length > 0 then "dependencies \(.dependencies | tojson)" else empty end' "$out")
  if [[ -z $problems ]]; then
    passed=$((passed + 1))
  else
    bed_log "schema: $problems"
    failed=$((failed + 1))
  fi
  echo "schema: $passed passed, $failed failed"
  ((failed == 0))
}

case $#:${1:-} in
  0:) main ;;
  1:-h | 1:--help) bed_help ;;
  *)
    echo "usage: $0 (no arguments; UPDATE_SCHEMA=1 records the snapshot)" >&2
    exit 2
    ;;
esac
