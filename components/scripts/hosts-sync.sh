# shellcheck shell=sh
# Makes the node $NODE hold exactly the hosts.toml files that $HOSTS lists, in one docker exec.
# $HOSTS has one line per file, "VARIABLE HOST_DIR", and the file's text is in $VARIABLE
# (HOSTS_TOML_DOCKER_IO, ...): one variable per file, so a preview's diff of the environment
# names the file that changes. The texts reach the node as arguments of node_script
# (scripts/hosts-node.sh), never inside script text; it writes only the files that differ and
# removes the directories it wrote before that are no longer listed.
require_docker
nl='
'
set --
while IFS=' ' read -r var dir; do
  [ -n "$var" ] || continue
  case $var in
  HOSTS_TOML_*[![:upper:][:digit:]_]* | HOSTS_TOML_) var= ;;
  HOSTS_TOML_*) ;;
  *) var= ;;
  esac
  if [ -z "$var" ] || ! printenv "$var" >/dev/null; then
    say "HOSTS names no variable HOSTS_TOML_* that is set, in the line for '$dir'"
    exit 1
  fi
  # printenv ends the value with a newline; the '.' keeps the value's own trailing newlines.
  text=$(printenv "$var" && echo .)
  set -- "$@" "$dir" "${text%"$nl."}"
done <<LIST
$HOSTS
LIST
if ! out=$(docker exec "$NODE" sh -c "$(node_script)" sh /etc/containerd/certs.d "$@"); then
  say "could not write the hosts.toml files on $NODE (see the error above)"
  exit 1
fi
while IFS= read -r line; do
  [ -z "$line" ] || say "$line on $NODE"
done <<LIST
$out
LIST
