/** Where containerd looks for per-registry `hosts.toml` files on every node. */
export const CERTS_D = "/etc/containerd/certs.d";

/**
 * The file in CERTS_D where a node's `hosts.toml` command lists the directories it wrote
 * (scripts/hosts-node.sh), so it never removes one it did not.
 */
export const HOSTS_MANIFEST = ".kind-dev-managed";

/**
 * The only containerd patch this package applies. kind v0.27-v0.30 node images ship containerd
 * 2.0/2.1, whose `config_path` is empty by default; v0.31+ (containerd 2.2+) default to this value,
 * so the patch is harmless there. Legacy `registry.mirrors` / `registry.configs` sections are never
 * emitted: combined with `config_path` they stop containerd 2.2's CRI plugin from loading, and
 * containerd 2.4 removes them.
 */
export const CONTAINERD_CONFIG_PATCH = `[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "${CERTS_D}"`;
