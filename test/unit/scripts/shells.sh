#!/usr/bin/env bash
# The unit tests of the component's scripts (test/unit/scripts) with another shell as /bin/sh.
# The scripts run under the machine's /bin/sh: dash on Debian and Ubuntu (every other test layer),
# bash on Fedora and Arch (and on macOS, whose bash 3.2 this does not run), BusyBox on Alpine,
# where the scripts' other tools (ps, grep, mktemp, ...) are BusyBox's too, as here. Each shell is
# bound over /bin/sh in a mount namespace of its own, which nothing outside sees.
# Needs unshare (util-linux) and root, or unprivileged user namespaces. BusyBox is installed from
# Debian when it is missing and apt is at hand (as root).
# Usage: bash test/unit/scripts/shells.sh [bash] [busybox]   (default: both)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
# shellcheck source-path=SCRIPTDIR/../../.. source=test/bed/common.sh
source test/bed/common.sh
shells=("$@")
((${#shells[@]})) || shells=(bash busybox)
for shell in "${shells[@]}"; do
  case $shell in
    -h | --help)
      bed_help
      exit
      ;;
    bash | busybox) ;;
    *)
      echo "usage: $0 [bash] [busybox]" >&2
      exit 2
      ;;
  esac
done

userns=()
[[ $(id -u) == 0 ]] || userns=(--map-root-user)
failed=0
for shell in "${shells[@]}"; do
  if [[ $shell == busybox ]] && ! command -v busybox >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    { apt-get install -y -qq busybox || { apt-get update -qq && apt-get install -y -qq busybox; }; } >/dev/null
  fi
  binary=$(command -v "$shell") || {
    echo "shells: $shell is not installed" >&2
    exit 1
  }
  report=$(mktemp --suffix=.json)
  tools=$(mktemp -d)
  if [[ $shell == busybox ]]; then
    busybox --install -s "$tools"
  fi
  status=0
  # shellcheck disable=SC2016 # the inner bash expands it
  KIND_DEV_TEST_TOOLS=$tools unshare "${userns[@]}" --mount -- bash -c 'mount --bind "$1" /bin/sh && shift && exec "$@"' \
    shells "$binary" npx vitest run --project unit test/unit/scripts \
    --reporter=default --reporter=json --outputFile.json="$report" || status=$?
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -p 'const r = require(process.argv[1]);
    `scripts, ${process.argv[2]} as /bin/sh: ${r.numPassedTests} passed, ${r.numFailedTests} failed`' \
    "$report" "$shell" || true
  rm -rf "$report" "$tools"
  ((status == 0)) || failed=1
done
exit "$failed"
