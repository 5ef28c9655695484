#!/usr/bin/env bash
# npm run bench: builds/checks the test bed (Docker, images, Pulumi, kind, node image) and ctlptl
# (test/bed/ctlptl.sh, for benchmark 4; only the benchmarks need it), makes sure rsvg-convert
# (Debian librsvg2-bin) and a font are there for the chart, then runs the TypeScript harness
# test/bench/bench.ts. See docs/bench/results.md for the environment knobs
# (BENCH_SMOKE=1: the quick run, results written to a temp dir).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
# ctlptl's first build takes minutes of (niced) CPU: start it now, next to the test bed's steps.
ctlptl_log=$(mktemp)
bash test/bed/ctlptl.sh >"$ctlptl_log" 2>&1 &
ctlptl_pid=$!
bash test/bed/testbed.sh --node-image
npm run build >/dev/null # the doctor's CLI, which benchmark 3 times
fonts=$(fc-list 2>/dev/null || true)
if ! command -v rsvg-convert >/dev/null 2>&1 || [[ ${fonts,,} != *dejavu* ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y librsvg2-bin fonts-dejavu-core >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y librsvg2-bin fonts-dejavu-core >/dev/null; }
fi
if ! wait "$ctlptl_pid"; then
  cat "$ctlptl_log" >&2
  echo "bench: building ctlptl failed (test/bed/ctlptl.sh)" >&2
  exit 1
fi
cat "$ctlptl_log" >&2
rm -f "$ctlptl_log"
exec npx ts-node --transpile-only test/bench/bench.ts "$@"
