/**
 * The KEP-1755 ConfigMap `kube-public/local-registry-hosting`, through which Tilt, Skaffold and
 * other tools discover the local registry. Its text: render/localRegistryHosting.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { LOCAL_REGISTRY_HOSTING, renderLocalRegistryHosting } from "./render/localRegistryHosting";

/** The ConfigMap, through the cluster's provider, once the registry it names runs. */
export function createConfigMap(
  name: string,
  config: ResolvedConfig,
  dependsOn: readonly pulumi.Resource[],
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
        [LOCAL_REGISTRY_HOSTING.key]: renderLocalRegistryHosting(config.registry),
      },
    },
    { parent, provider, dependsOn: [...dependsOn] },
  );
}
