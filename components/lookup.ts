/**
 * Read-only lookups the program makes at run time (in previews too). They run docker and kind
 * with argument vectors, never through a shell, and they print nothing: the command provider
 * would log whatever a command prints, which must not include a kubeconfig.
 */
import { execCommand as exec } from "./exec";

/**
 * Where a registry container stands: `present`; `missing` (its volume is there but the container
 * is not: removed by hand); `absent` (neither: never created, or everything removed); `unknown`
 * (no docker CLI).
 */
export type ContainerState = "present" | "missing" | "absent" | "unknown";

export async function containerState(container: string, volume: string): Promise<ContainerState> {
  const inspect = await exec("docker", ["container", "inspect", "--format", "{{.Id}}", container]);
  if (inspect.missing) {
    return "unknown";
  }
  if (inspect.code === 0) {
    return "present";
  }
  const vol = await exec("docker", ["volume", "inspect", "--format", "{{.Name}}", volume]);
  return vol.code === 0 ? "missing" : "absent";
}

/** The kubeconfig kind keeps for a cluster, for use from the host. */
export async function readKubeconfig(clusterName: string): Promise<string> {
  const r = await exec("kind", ["get", "kubeconfig", "--name", clusterName]);
  if (r.missing) {
    throw new Error(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry",
    );
  }
  if (r.code !== 0) {
    throw new Error(
      `pulumi-kind-dev: could not read the kubeconfig of kind cluster ${JSON.stringify(clusterName)} ` +
        `(was it deleted outside Pulumi? then run 'pulumi up --replace' on the cluster resource): ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

/**
 * Run inside a node with `sh -c`, a constant: exits 0 when certs.d holds `hosts.toml` files but
 * no manifest (scripts/hosts-node.sh writes one), i.e. the files were written one command per
 * file, by version 0.1.
 */
export const UNMANAGED_HOSTS_FILES_SCRIPT = `[ -e /etc/containerd/certs.d/.kind-dev-managed ] && exit 1
for f in /etc/containerd/certs.d/*/hosts.toml; do [ -f "$f" ] && exit 0; done
exit 1`;

/**
 * True when the node exists and its `hosts.toml` files were written by version 0.1's commands
 * (see UNMANAGED_HOSTS_FILES_SCRIPT); false when it was not, when the node does not exist, or
 * when docker cannot tell.
 */
export async function nodeHasUnmanagedHostsFiles(node: string): Promise<boolean> {
  const r = await exec("docker", ["exec", node, "sh", "-c", UNMANAGED_HOSTS_FILES_SCRIPT]);
  return r.code === 0;
}
