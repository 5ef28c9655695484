/**
 * The KEP-1755 `localRegistryHosting.v1` value. Pure: components/configMap.ts puts it in the
 * ConfigMap, and the doctor compares the cluster's ConfigMap with it.
 */
import { yamlString } from "./text";

/** Name, namespace and data key of the KEP-1755 ConfigMap. */
export const LOCAL_REGISTRY_HOSTING = {
  name: "local-registry-hosting",
  namespace: "kube-public",
  key: "localRegistryHosting.v1",
} as const;

/**
 * The value, in the field order of KEP-1755: `host` is where tools on the host push
 * (`localhost:<port>`), which works inside the nodes too (their `hosts.toml` maps it to the
 * registry), so it is also `hostFromContainerRuntime`; `hostFromClusterNetwork` is how pods
 * reach the registry over the cluster network (`kind-registry:5000`).
 */
export function renderLocalRegistryHosting(registry: {
  readonly host: string;
  readonly hostFromClusterNetwork: string;
}): string {
  return [
    `host: ${yamlString(registry.host)}`,
    `hostFromContainerRuntime: ${yamlString(registry.host)}`,
    `hostFromClusterNetwork: ${yamlString(registry.hostFromClusterNetwork)}`,
    `help: ${yamlString("https://kind.sigs.k8s.io/docs/user/local-registry/")}`,
    "",
  ].join("\n");
}
