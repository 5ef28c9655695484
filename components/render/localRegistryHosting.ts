import { yamlString } from "./text";

/** Name, namespace and data key of the KEP-1755 ConfigMap. */
export const LOCAL_REGISTRY_HOSTING = {
  name: "local-registry-hosting",
  namespace: "kube-public",
  key: "localRegistryHosting.v1",
} as const;

export const LOCAL_REGISTRY_HELP_URL = "https://kind.sigs.k8s.io/docs/user/local-registry/";

export interface LocalRegistryHosting {
  /** Where tools on the host push and tag images, e.g. `localhost:5001`. */
  readonly host: string;
  /** How the nodes' container runtime names the registry (mapped by `hosts.toml`). */
  readonly hostFromContainerRuntime: string;
  /** How pods reach the registry over the cluster network, e.g. `kind-registry:5000`. */
  readonly hostFromClusterNetwork: string;
  readonly help: string;
}

/** The `localRegistryHosting.v1` value, in the field order of KEP-1755. */
export function renderLocalRegistryHosting(value: LocalRegistryHosting): string {
  return [
    `host: ${yamlString(value.host)}`,
    `hostFromContainerRuntime: ${yamlString(value.hostFromContainerRuntime)}`,
    `hostFromClusterNetwork: ${yamlString(value.hostFromClusterNetwork)}`,
    `help: ${yamlString(value.help)}`,
    "",
  ].join("\n");
}
