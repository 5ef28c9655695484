# shellcheck shell=sh
# Runs inside a kind node, as `sh -c` from hosts-sync.sh and hosts-clear.sh (scripts.ts hands it
# to them as the function node_script). Arguments: the certs.d directory
# (/etc/containerd/certs.d), then pairs of a host directory under it and the text of its
# hosts.toml; no pairs on delete.
# - Writes each file whose text differs from the node's (a temporary file, then mv: containerd
#   never reads half a file); leaves the others alone.
# - Removes the directories that the manifest lists and the arguments no longer name. The
#   manifest (.kind-dev-managed) lists the directories this package wrote, so a directory it did
#   not write (by hand, another tool, an earlier version) is never removed.
# - Writes the new manifest, or removes it when no file is left.
# Prints one line per file on stdout: "wrote PATH", "kept PATH" or "removed DIR".
# With --list before the certs.d directory (the doctor's reader) it changes nothing: it prints
# each hosts.toml under it as the host directory and the text, each followed by a NUL byte,
# which no text file holds.
set -eu
list=
if [ "${1:-}" = --list ]; then
  list=1
  shift
fi
d=${1:-}
case $d in
/?*) shift ;;
*)
  echo "expected the certs.d directory as an absolute path, got '$d'" >&2
  exit 2
  ;;
esac
if [ -n "$list" ]; then
  for f in "$d"/*/hosts.toml; do
    [ -f "$f" ] || continue
    dir=${f%/hosts.toml}
    printf '%s\0' "${dir##*/}"
    cat "$f"
    printf '\0'
  done
  exit 0
fi
manifest=$d/.kind-dev-managed
nl='
'
# One path component, not hidden (the manifest is), no newline.
valid() {
  case $1 in
  '' | .* | */* | *"$nl"*) return 1 ;;
  esac
  return 0
}
if [ $(($# % 2)) -ne 0 ]; then
  echo "expected pairs of host directory and hosts.toml text, got $# arguments" >&2
  exit 2
fi
mkdir -p "$d"
new=
while [ "$#" -gt 0 ]; do
  dir=$1
  text=$2
  shift 2
  if ! valid "$dir"; then
    echo "not a host directory: '$dir'" >&2
    exit 2
  fi
  f=$d/$dir/hosts.toml
  # The trailing '.' keeps trailing newlines in the comparison.
  if [ -f "$f" ] && [ "$(cat "$f" && echo .)" = "$text." ]; then
    echo "kept $f"
  else
    mkdir -p "$d/$dir"
    printf '%s' "$text" >"$f.tmp"
    mv "$f.tmp" "$f"
    echo "wrote $f"
  fi
  new=$new$dir$nl
done
old=
if [ -f "$manifest" ]; then
  old=$(cat "$manifest")
fi
while IFS= read -r dir; do
  valid "$dir" || continue
  case $nl$new in
  *"$nl$dir$nl"*) continue ;;
  esac
  rm -rf "${d:?}/$dir"
  echo "removed $d/$dir"
done <<LIST
$old
LIST
if [ -n "$new" ]; then
  printf '%s' "$new" >"$manifest.tmp"
  mv "$manifest.tmp" "$manifest"
else
  rm -f "$manifest"
fi
