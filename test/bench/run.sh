#!/usr/bin/env bash
# npm run bench: builds/checks the test bed (Docker, images, Pulumi, kind, node image), makes
# sure rsvg-convert (Debian librsvg2-bin) and a font are there for the chart, then runs the
# TypeScript harness test/bench/bench.ts. See docs/bench/results.md for the environment knobs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
bash test/bed/testbed.sh --node-image
npm run build >/dev/null # the doctor's CLI, which benchmark 3 times
fonts=$(fc-list 2>/dev/null || true)
if ! command -v rsvg-convert >/dev/null 2>&1 || [[ ${fonts,,} != *dejavu* ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y librsvg2-bin fonts-dejavu-core >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y librsvg2-bin fonts-dejavu-core >/dev/null; }
fi
exec npx ts-node --transpile-only test/bench/bench.ts "$@"
