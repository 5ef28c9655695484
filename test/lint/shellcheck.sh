#!/usr/bin/env bash
# Runs ShellCheck over every shell file git tracks (by extension, or a sh/bash shebang), the product's
# scripts and the test bed's alike. Part of `npm run lint`. shellcheck is a Debian package; it is
# installed when missing and apt is at hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! command -v shellcheck >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "shellcheck: installing the Debian package" >&2
    { apt-get install -y -qq shellcheck || { apt-get update -qq && apt-get install -y -qq shellcheck; }; } >/dev/null
  else
    echo "shellcheck is not installed: apt-get install shellcheck (or brew install shellcheck)" >&2
    exit 1
  fi
fi
files=()
while IFS= read -r f; do
  [[ -f $f ]] || continue
  case $f in
  *.sh) files+=("$f") ;;
  */* | *) [[ $(basename "$f") == *.* ]] && continue
    first=$(head -c 64 "$f" | tr -d '\0')
    [[ ${first%%$'\n'*} =~ ^#!.*(ba)?sh ]] && files+=("$f") ;;
  esac
done < <(git ls-files --cached --others --exclude-standard)
shellcheck -x --severity=style "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"
