/**
 * The KEP-1755 `localRegistryHosting.v1` value. Pure: components/registryHosting.ts puts it in the
 * ConfigMap, and the doctor compares the cluster's ConfigMap with it.
 */
import type { ResolvedConfig } from "../config";
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

/** What the ConfigMap says of the registry. */
export function localRegistryHosting(config: ResolvedConfig): LocalRegistryHosting {
  return {
    host: config.registry.host,
    // `localhost:<port>` works inside the nodes too: hostsToml.ts maps it to the registry.
    hostFromContainerRuntime: config.registry.host,
    hostFromClusterNetwork: config.registry.hostFromClusterNetwork,
    help: LOCAL_REGISTRY_HELP_URL,
  };
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
