# shellcheck shell=sh
# Writes $HOSTS_TOML as /etc/containerd/certs.d/$HOST_DIR/hosts.toml in the node $NODE. containerd
# reads these files at pull time: no restart. The directory reaches the node's shell as $1,
# never inside its script text.
require_docker
# shellcheck disable=SC2016 # expanded by the node's shell
printf '%s' "$HOSTS_TOML" | docker exec -i "$NODE" sh -c 'set -eu; d="/etc/containerd/certs.d/$1"; mkdir -p "$d"; cat > "$d/hosts.toml.tmp"; mv "$d/hosts.toml.tmp" "$d/hosts.toml"' sh "$HOST_DIR"
say "wrote /etc/containerd/certs.d/$HOST_DIR/hosts.toml on $NODE"
