#!/usr/bin/env bash
# Installs the Docker engine and the tools the test bed needs (Debian packages), starts
# dockerd in the background when no daemon answers, and makes sure the `docker` client the
# tests use talks to it. Idempotent: a second run only checks. `--restart-daemon` stops the
# daemon and starts it again (the end-to-end tests' Docker-restart fault).
#
# Findings on the build machines (Debian 12):
# - Debian's docker.io is Docker 20.10 (API 1.41). /usr/local/bin/docker (client 28.x, API
#   1.50) comes first on PATH; it negotiates the API version down and works against it. The
#   check below verifies that on every run and falls back to Debian's /usr/bin/docker (linked
#   into $BED_BIN, which tests put first on PATH) if it does not.
# - There is no systemd: dockerd is started here, logging to $BED_CACHE/dockerd.log.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BED_PACKAGES=(docker.io docker-registry containerd debootstrap iproute2 curl ca-certificates iptables jq)
DOCKERD_LOG=$BED_CACHE/dockerd.log

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

bed_docker_packages() {
  local missing=() p
  for p in "${BED_PACKAGES[@]}"; do
    bed_deb_installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    bed_log "packages: all present (${BED_PACKAGES[*]})"
    return 0
  fi
  bed_log "packages: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# True when the daemon answers through Debian's own client (the daemon's matching version).
bed_daemon_answers() {
  /usr/bin/docker info >/dev/null 2>&1
}

bed_docker_daemon() {
  if bed_daemon_answers; then
    bed_log "dockerd: already answering"
    return 0
  fi
  bed_log "dockerd: starting in the background (log: $DOCKERD_LOG)"
  # setsid + nohup: the daemon outlives this script and the shell that ran it.
  "${SUDO[@]}" setsid nohup /usr/sbin/dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! i
  for i in $(seq 1 120); do
    if bed_daemon_answers; then
      bed_log "dockerd: answering after ${i}x0.5s (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  bed_log "dockerd: no answer (exited or 60s passed); last log lines:"
  tail -n 30 "$DOCKERD_LOG" >&2 || true
  return 1
}

# Which client the bed uses: the first `docker` on PATH if it works against the daemon,
# otherwise Debian's, linked into $BED_BIN. A link left there by an earlier run is kept only
# while the PATH client still fails.
bed_docker_client() {
  local path_docker versions='{{.Client.Version}} (API {{.Client.APIVersion}}) against dockerd {{.Server.Version}} (API {{.Server.APIVersion}})'
  path_docker=$(PATH=${PATH//"$BED_BIN:"/} command -v docker || true)
  if [ -z "$path_docker" ] || [ "$path_docker" = /usr/bin/docker ]; then
    bed_log "client: /usr/bin/docker (Debian) $(/usr/bin/docker version --format "$versions")"
  elif "$path_docker" ps >/dev/null 2>&1; then
    bed_log "client: $path_docker $("$path_docker" version --format "$versions") works (API negotiated)"
    if [ "$(readlink "$BED_BIN/docker" 2>/dev/null)" = /usr/bin/docker ]; then
      rm -f "$BED_BIN/docker"
      bed_log "client: removed $BED_BIN/docker link, not needed"
    fi
  else
    ln -sfn /usr/bin/docker "$BED_BIN/docker"
    bed_log "client: $path_docker fails against dockerd $(/usr/bin/docker version --format '{{.Server.Version}}'); linked $BED_BIN/docker -> /usr/bin/docker"
  fi
  bed_log "client the tests use: $(PATH=$BED_BIN:$PATH command -v docker) $(PATH=$BED_BIN:$PATH docker version --format '{{.Client.Version}}, daemon {{.Server.Version}}')"
}

# Stops the daemon this machine runs (SIGTERM, as a service manager does: containers are
# stopped, and those with a restart policy start again with the daemon) and starts it again.
# The end-to-end tests use it to restart Docker under a running environment.
bed_docker_restart() {
  local pid i
  pid=$(pidof dockerd || true)
  if [ -z "$pid" ]; then
    bed_log "dockerd: not running here; nothing to restart"
    return 1
  fi
  bed_log "dockerd: stopping (pid $pid)"
  kill -TERM "$pid"
  for i in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    bed_log "dockerd: still running after 120s"
    return 1
  fi
  bed_log "dockerd: stopped after ${i}x0.5s"
  bed_docker_daemon
}

bed_docker_main() {
  bed_step docker-packages bed_docker_packages
  bed_step dockerd bed_docker_daemon
  bed_step docker-client bed_docker_client
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case ${1:-} in
    "") bed_docker_main ;;
    --restart-daemon) bed_docker_restart ;;
    *)
      echo "usage: $0 [--restart-daemon]" >&2
      exit 2
      ;;
  esac
fi
