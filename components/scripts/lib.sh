# shellcheck shell=sh
# Functions every script starts with (scripts.ts puts "set -eu" and this file before each
# script). The command provider logs what scripts print: progress and errors only, on stderr.

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
