#!/usr/bin/env bash
# npm run bench: builds/checks the test bed (Docker, images, Pulumi, kind, node image) and ctlptl
# (test/bed/ctlptl.sh; only the benchmarks need it), builds the package (the doctor's CLI, which
# benchmark 3 times), then runs the harness test/bench/bench.ts. docs/benchmarks.md describes the
# knobs (BENCH_SMOKE=1: the quick run, written to a temp dir).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
# shellcheck source=test/bed/common.sh
source test/bed/common.sh
case $#:${1:-} in
  0:) ;;
  1:-h | 1:--help)
    bed_help
    exit
    ;;
  *)
    echo "usage: npm run bench (no arguments; docs/benchmarks.md describes the BENCH_* variables)" >&2
    exit 2
    ;;
esac
# ctlptl's first build takes minutes of (niced) CPU: start it now, next to the test bed's steps.
ctlptl_log=$(mktemp)
bash test/bed/ctlptl.sh >"$ctlptl_log" 2>&1 &
ctlptl_pid=$!
bash test/bed/testbed.sh --node-image
npm run build >/dev/null
if ! wait "$ctlptl_pid"; then
  cat "$ctlptl_log" >&2
  echo "bench: building ctlptl failed (test/bed/ctlptl.sh)" >&2
  exit 1
fi
cat "$ctlptl_log" >&2
rm -f "$ctlptl_log"
# shellcheck source-path=SCRIPTDIR/../.. source=test/bed/env.sh
source test/bed/env.sh
exec npx ts-node --transpile-only test/bench/bench.ts
