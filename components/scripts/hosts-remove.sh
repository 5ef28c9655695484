# shellcheck shell=sh
# Removes /etc/containerd/certs.d/$HOST_DIR from the node $NODE, if the node still exists.
# shellcheck disable=SC2016 # expanded by the node's shell
docker exec "$NODE" sh -c 'rm -rf "/etc/containerd/certs.d/$1"' sh "$HOST_DIR" >/dev/null 2>&1 || true
