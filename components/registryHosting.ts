/**
 * The KEP-1755 ConfigMap `kube-public/local-registry-hosting`, through which Tilt, Skaffold and
 * other tools discover the local registry: its text and the resource.
 */
import type * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { yamlString } from "./render/text";

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

/** The ConfigMap, through the cluster's provider. */
export function createRegistryHosting(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  provider: k8s.Provider,
  parent: pulumi.Resource,
): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    `${name}-local-registry-hosting`,
    {
      metadata: {
        name: LOCAL_REGISTRY_HOSTING.name,
        namespace: LOCAL_REGISTRY_HOSTING.namespace,
      },
      data: {
        [LOCAL_REGISTRY_HOSTING.key]: renderLocalRegistryHosting(localRegistryHosting(config)),
      },
    },
    { parent, provider, dependsOn: [cluster] },
  );
}
