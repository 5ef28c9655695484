import type * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { LOCAL_REGISTRY_HOSTING } from "./render/localRegistryHosting";

export interface RegistryHosting {
  readonly provider: k8s.Provider;
  readonly configMap: k8s.core.v1.ConfigMap;
}

/**
 * A Kubernetes provider for the new cluster, and the KEP-1755 ConfigMap through which Tilt,
 * Skaffold and other tools discover the local registry.
 */
export function createRegistryHosting(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  kubeconfig: pulumi.Output<string>,
  parent: pulumi.Resource,
): RegistryHosting {
  const provider = new k8s.Provider(
    `${name}-k8s`,
    {
      kubeconfig,
      // A cluster deleted behind Pulumi's back must not block `pulumi destroy`.
      deleteUnreachable: true,
    },
    { parent, dependsOn: [cluster] },
  );
  const configMap = new k8s.core.v1.ConfigMap(
    `${name}-local-registry-hosting`,
    {
      metadata: {
        name: LOCAL_REGISTRY_HOSTING.name,
        namespace: LOCAL_REGISTRY_HOSTING.namespace,
      },
      data: { [LOCAL_REGISTRY_HOSTING.key]: config.localRegistryHostingYaml },
    },
    { parent, provider, dependsOn: [cluster] },
  );
  return { provider, configMap };
}
