# shellcheck shell=sh
# Functions every script starts with (scripts.ts puts "set -eu" and this file before each
# script). The command provider logs what scripts print: progress and errors only, on stderr.
#
# Docker objects are found by exact name and then acted on by ID. Docker itself takes a name as a
# full ID, then as an exact name, then as an ID prefix: `docker rm -f cafe` removes the container
# whose ID starts with cafe when none is named cafe (containers and networks; volumes have no ID
# and are looked up by exact name only). Every question to docker that a decision rests on fails
# the script when docker does not answer: "no answer" is never read as "nothing there".
# The functions that print an answer run inside $(...), where `exit` leaves only that subshell:
# callers write `x=$(function ...) || exit 1`.

# shellcheck disable=SC2034 # used by the scripts
nl='
'

say() { echo "pulumi-kind-dev: $*" >&2; }

require_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    say "the docker CLI is not on PATH; install Docker and retry"
    exit 127
  fi
  if ! docker info >/dev/null 2>&1; then
    say "the Docker daemon does not answer ('docker info' failed); start Docker and retry"
    exit 1
  fi
}

require_kind() {
  if ! command -v kind >/dev/null 2>&1; then
    say "the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry"
    exit 127
  fi
}

# Docker stopped answering after require_docker found it: one line, and the script ends.
docker_down() {
  say "the Docker daemon does not answer ('docker $1' failed); start Docker and retry"
  exit 1
}

# Prints the full ID of the container named exactly $1; nothing when there is none.
container_id_exact() {
  _list=$(docker ps -a --no-trunc --format '{{.ID}} {{.Names}}' 2>/dev/null) || docker_down ps
  while IFS= read -r _line; do
    _id=${_line%% *}
    # .Names is the name and any legacy link names (other/alias), comma-separated.
    _rest=${_line#* },
    while [ -n "$_rest" ]; do
      if [ "${_rest%%,*}" = "$1" ]; then
        printf '%s\n' "$_id"
        return 0
      fi
      _rest=${_rest#*,}
    done
  done <<LIST
$_list
LIST
}

# Prints the full ID of the network named exactly $1; nothing when there is none.
network_id_exact() {
  _list=$(docker network ls --no-trunc --format '{{.ID}} {{.Name}}' 2>/dev/null) ||
    docker_down "network ls"
  _found=
  while IFS= read -r _line; do
    _id=${_line%% *}
    [ "${_line#* }" = "$1" ] || continue
    if [ -n "$_found" ]; then
      say "two docker networks are named $1 ($_found and $_id); remove the one nothing uses (docker network rm ID) and retry"
      exit 1
    fi
    _found=$_id
  done <<LIST
$_list
LIST
  [ -z "$_found" ] || printf '%s\n' "$_found"
}

# True when a volume is named exactly $1 (a status, not output: call it outside $(...)).
volume_exists() {
  _list=$(docker volume ls --quiet 2>/dev/null) || docker_down "volume ls"
  while IFS= read -r _name; do
    [ "$_name" != "$1" ] || return 0
  done <<LIST
$_list
LIST
  return 1
}

# Prints the value of the label $2 of the container with the ID $1.
container_label() {
  docker container inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null ||
    docker_down "container inspect"
}

# Where this package keeps what outlives one script: locks, the cluster markers, kind's logs.
state_dir() {
  printf '%s\n' "${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/pulumi-kind-dev"
}

# at_exit FUNCTION: runs FUNCTION when the script exits, the last registered first. A script
# stopped by SIGINT, SIGTERM or SIGHUP exits through them too, with killed=1 (SIGKILL runs
# nothing). Background jobs do not inherit these traps.
# shellcheck disable=SC2034 # read by the scripts' hooks
killed=0
_exit_hooks=
at_exit() {
  if [ -z "$_exit_hooks" ]; then
    trap '_run_exit_hooks' EXIT
    trap 'killed=1; exit 129' HUP
    trap 'killed=1; exit 130' INT
    trap 'killed=1; exit 143' TERM
  fi
  _exit_hooks="$1 $_exit_hooks"
}
_run_exit_hooks() {
  for _hook in $_exit_hooks; do
    "$_hook" || true
  done
}

# lock NAME WHAT: one writer at a time for NAME (cluster-dev, container-kind-registry), across
# processes and stacks. The lock is a directory under the state directory (mkdir is atomic
# everywhere; macOS has no flock) holding the pid of the script that holds it and WHAT it does. A
# lock whose pid is gone is stale (a run killed mid-way) and taken over. Otherwise this waits, up
# to $KIND_DEV_LOCK_WAIT seconds (300), saying once which pid it waits for, then gives up: it
# never removes what the other run made. Released when the script exits.
lock() {
  _dir=$(state_dir)/locks
  mkdir -p "$_dir"
  _lock=$_dir/$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_').lock
  _limit=${KIND_DEV_LOCK_WAIT:-300}
  _waited=0
  _told=
  _nopid=0
  until mkdir "$_lock" 2>/dev/null; do
    _pid=$(cat "$_lock/pid" 2>/dev/null || true)
    case $_pid in
    '' | *[!0-9]*)
      # Made an instant ago, its pid not written yet; still so after 5 s: its maker died.
      _nopid=$((_nopid + 1))
      if [ "$_nopid" -gt 5 ]; then
        _break_lock "$_pid"
        if mkdir "$_lock" 2>/dev/null; then break; fi
      fi
      ;;
    *)
      _nopid=0
      if kill -0 "$_pid" 2>/dev/null || ps -p "$_pid" >/dev/null 2>&1; then
        [ "$_told" = "$_pid" ] ||
          say "waiting for pid $_pid, $(cat "$_lock/what" 2>/dev/null || echo "which works on $1") (at most ${_limit}s)"
        _told=$_pid
      else
        [ "$_told" = "gone $_pid" ] ||
          say "taking over the lock $_lock: its pid $_pid is gone (a run that was interrupted)"
        _told="gone $_pid"
        _break_lock "$_pid"
        if mkdir "$_lock" 2>/dev/null; then break; fi
      fi
      ;;
    esac
    if [ "$_waited" -ge "$_limit" ]; then
      say "gave up after ${_limit}s waiting for pid ${_pid:-?}, which still works on $1 ($_lock). Run this again once it is done; if no such process runs, remove the lock: rm -rf '$_lock' '$_lock.break'"
      exit 1
    fi
    sleep 1
    _waited=$((_waited + 1))
  done
  printf '%s\n' "$2" >"$_lock/what"
  printf '%s\n' "$$" >"$_lock/pid"
  _held_lock=$_lock
  at_exit _unlock
}

# Removes the lock $_lock if its pid is still $1, under a second lock: of two runs that found
# the same stale lock, the second finds it gone or taken by the first, and leaves it.
_break_lock() {
  if mkdir "$_lock.break" 2>/dev/null; then
    if [ "$(cat "$_lock/pid" 2>/dev/null || true)" = "$1" ]; then
      rm -rf "$_lock"
    fi
    rmdir "$_lock.break"
  fi
}

_unlock() {
  if [ "$(cat "$_held_lock/pid" 2>/dev/null || true)" = "$$" ]; then
    rm -rf "$_held_lock"
  fi
}
