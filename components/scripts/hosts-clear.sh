# shellcheck shell=sh
# Removes from the node $NODE the hosts.toml directories its manifest lists (those this package
# wrote, see scripts/hosts-node.sh) and the manifest, if the node still exists.
docker exec "$NODE" sh -c "$(node_script)" sh /etc/containerd/certs.d >/dev/null 2>&1 || true
