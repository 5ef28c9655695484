#!/usr/bin/env bash
# The release check (CONTRIBUTING.md, "Releasing"): what must hold for package.json's version to
# be tagged and published. Prints one line per check and a plain "release: N passed, N failed".
#   version     package.json's version is X.Y.Z and provider/package.json has the same
#   changelog   CHANGELOG.md has a "## [X.Y.Z] - YYYY-MM-DD" section with content
#   readme      README.md shows the install commands for vX.Y.Z, from package.json's repository
#   tag         no tag vX.Y.Z on another commit; a v* tag on HEAD is vX.Y.Z; with --tagged, HEAD
#               carries vX.Y.Z and the work tree is clean; with --between-releases (CI), vX.Y.Z
#               may tag an earlier commit of HEAD's history: the last release, not yet bumped
#   pack        `npm pack --dry-run` holds exactly the files in test/release/pack-files.txt
#               (a line `dist/x.{d.ts,js}` lists dist/x.d.ts and dist/x.js)
#   schema      test/schema/check.sh (the component provider's schema snapshot)
# Usage: bash test/release/check.sh [--tagged | --between-releases] [--skip-schema] [--metadata-only]
#   --metadata-only  version, changelog, readme and tag only (no build, no Pulumi CLI)
#   KIND_DEV_RELEASE_DIR checks another checkout (the tests use throwaway repositories).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${KIND_DEV_RELEASE_DIR:-$(cd "$SCRIPT_DIR/../.." && pwd)}
TAGGED=0
BETWEEN=0
SCHEMA=1
BUILD=1
for arg in "$@"; do
  case $arg in
    -h | --help)
      # shellcheck source-path=SCRIPTDIR source=../bed/common.sh
      source "$SCRIPT_DIR/../bed/common.sh"
      bed_help
      exit
      ;;
    --tagged) TAGGED=1 ;;
    --between-releases) BETWEEN=1 ;;
    --skip-schema) SCHEMA=0 ;;
    --metadata-only) BUILD=0 SCHEMA=0 ;;
    *)
      echo "release: unknown argument '$arg' (--tagged, --between-releases, --skip-schema, --metadata-only)" >&2
      exit 2
      ;;
  esac
done

passed=0
failed=0
ok() {
  echo "release: ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "release: FAILED: $*"
  failed=$((failed + 1))
}

# json FILE EXPR: a value of a JSON file, by a JavaScript expression over `j`.
json() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e 'const j = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const v = new Function("j", `return (${process.argv[2]});`)(j); console.log(v ?? "")' "$1" "$2"
}

VERSION=$(json "$DIR/package.json" j.version)
TAG=v$VERSION

check_version() {
  local provider
  provider=$(json "$DIR/provider/package.json" j.version)
  if [[ ! $VERSION =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
    fail "version: package.json's version '$VERSION' is not X.Y.Z"
  elif [[ $provider != "$VERSION" ]]; then
    fail "version: provider/package.json has $provider, package.json $VERSION"
  else
    ok "version $VERSION (package.json, provider/package.json)"
  fi
}

check_changelog() {
  local section
  # The lines of the version's section, up to the next "## " heading.
  section=$(awk -v v="$VERSION" '
    index($0, "## [" v "] - ") == 1 { found = 1; print; next }
    found && /^## / { exit }
    found { print }' "$DIR/CHANGELOG.md")
  if [[ -z $section ]]; then
    fail "changelog: CHANGELOG.md has no '## [$VERSION] - YYYY-MM-DD' section"
  elif [[ ! ${section%%$'\n'*} =~ ^\#\#\ \[$VERSION\]\ -\ [0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
    fail "changelog: the heading '${section%%$'\n'*}' is not '## [$VERSION] - YYYY-MM-DD'"
  elif [[ -z $(sed '1d;/^[[:space:]]*$/d' <<<"$section") ]]; then
    fail "changelog: the $VERSION section is empty"
  else
    ok "changelog: ${section%%$'\n'*}"
  fi
}

check_readme() {
  local url slug npm_cmd add_cmd readme missing=()
  url=$(json "$DIR/package.json" 'j.repository && j.repository.url')
  if [[ ! $url =~ ^git\+https://github\.com/([^/]+/[^/]+)\.git$ ]]; then
    fail "readme: package.json's repository.url '$url' is not git+https://github.com/OWNER/NAME.git"
    return
  fi
  slug=${BASH_REMATCH[1]}
  npm_cmd="npm install git+https://github.com/$slug.git#$TAG"
  add_cmd="pulumi package add github.com/$slug.git/provider@$TAG"
  readme=$(<"$DIR/README.md")
  [[ $readme == *"$npm_cmd"* ]] || missing+=("$npm_cmd")
  [[ $readme == *"$add_cmd"* ]] || missing+=("$add_cmd")
  if ((${#missing[@]})); then
    fail "readme: README.md does not show: ${missing[*]}"
  else
    ok "readme: install commands for $TAG from github.com/$slug"
  fi
}

check_tag() {
  local at head on_head status
  at=$(git -C "$DIR" rev-parse -q --verify "refs/tags/$TAG^{commit}" || true)
  head=$(git -C "$DIR" rev-parse HEAD)
  on_head=$(git -C "$DIR" tag --points-at HEAD --list 'v*')
  if [[ -n $at && $at != "$head" ]]; then
    if ((BETWEEN && !TAGGED)) && git -C "$DIR" merge-base --is-ancestor "$at" HEAD; then
      ok "tag: $TAG is the last release, an earlier commit of HEAD; the next release bumps the version"
    else
      fail "tag: $TAG already tags another commit ($at): a new release needs a new version"
    fi
    return
  fi
  local t
  while IFS= read -r t; do
    if [[ -n $t && $t != "$TAG" ]]; then
      fail "tag: HEAD is tagged $t, but package.json's version is $VERSION"
      return
    fi
  done <<<"$on_head"
  if ((TAGGED)); then
    status=$(git -C "$DIR" status --porcelain)
    if [[ -z $at ]]; then
      fail "tag: HEAD is not tagged $TAG"
    elif [[ -n $status ]]; then
      fail "tag: the work tree has uncommitted changes"
    else
      ok "tag: HEAD is $TAG, the work tree is clean"
    fi
  elif [[ -n $at ]]; then
    ok "tag: HEAD is $TAG"
  elif ((BETWEEN)); then
    ok "tag: $TAG is free: a release being prepared, or a clone without the last release's tag (git fetch --tags)"
  else
    ok "tag: $TAG is free"
  fi
}

check_pack() {
  local expected actual
  (cd "$DIR" && npm run build --silent >/dev/null)
  actual=$(cd "$DIR" && npm pack --dry-run --json --ignore-scripts 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const f of JSON.parse(s)[0].files.map((f) => f.path).sort()) console.log(f); })')
  expected=$(awk '!match($0, /\{[^}]*\}$/) { print; next }
    { n = split(substr($0, RSTART + 1, RLENGTH - 2), e, ",")
      for (i = 1; i <= n; i++) print substr($0, 1, RSTART - 1) e[i] }' "$SCRIPT_DIR/pack-files.txt" |
    LC_ALL=C sort)
  if [[ $actual == "$expected" ]]; then
    ok "pack: $(wc -l <<<"$actual") files, as test/release/pack-files.txt lists"
  else
    fail "pack: npm pack differs from test/release/pack-files.txt (- listed, + packed):"
    diff <(echo "$expected") <(echo "$actual") | sed -n 's/^[<>] /  &/p' | sed 's/^  < /  - /; s/^  > /  + /'
  fi
}

check_schema() {
  if bash "$DIR/test/schema/check.sh"; then
    ok "schema: matches test/schema/kind-dev.schema.json"
  else
    fail "schema: see above"
  fi
}

check_version
check_changelog
check_readme
check_tag
((BUILD)) && check_pack
((SCHEMA)) && check_schema
echo "release: $passed passed, $failed failed"
((failed == 0))
