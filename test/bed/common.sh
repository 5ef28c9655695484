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

bed_log() { printf '[testbed] %s\n' "$*" >&2; }

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

# bed_host_port CONTAINER: the host port published for the container's 5000/tcp (first binding).
bed_host_port() {
  local bindings
  bindings=$(docker port "$1" 5000/tcp)
  bindings=${bindings%%$'\n'*}
  echo "${bindings##*:}"
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
