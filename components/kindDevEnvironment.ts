import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KindDevEnvironmentArgs } from "./args";
import { createCluster } from "./cluster";
import { resolveConfig } from "./config";
import { createNodeHosts } from "./nodeHosts";
import { createNetwork } from "./network";
import { createRegistries } from "./registries";
import { createConfigMap } from "./configMap";

export type { CacheArgs, KindDevEnvironmentArgs, PortMappingArgs } from "./args";

/**
 * Each environment's Kubernetes provider. Kept off the instance's own properties so that the
 * component provider's schema analyzer, which reads every property of the class, leaves it out.
 */
const providers = new WeakMap<KindDevEnvironment, k8s.Provider>();

/**
 * A complete local Kubernetes dev environment on kind, made in this order: the docker network;
 * a push registry on `localhost:<registryPort>` and pull-through caches; the cluster; then
 * `hosts.toml` on every node so containerd finds the registry and the caches, and the KEP-1755
 * ConfigMap.
 */
export class KindDevEnvironment extends pulumi.ComponentResource {
  /** Name of the kind cluster. */
  public readonly clusterName: pulumi.Output<string>;
  /** kubeconfig of the cluster for use from the host. Secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /**
   * Kubernetes provider for the cluster, for the caller's own resources. TypeScript only: a
   * provider object cannot cross languages, so it is a getter the component provider's schema
   * leaves out; other languages build their own provider from `kubeconfig`.
   */
  public get provider(): k8s.Provider {
    const provider = providers.get(this);
    if (provider === undefined) {
      throw new Error("KindDevEnvironment.provider is read before the constructor set it");
    }
    return provider;
  }
  /** Where to push and how pods name local images, e.g. `localhost:5001`. */
  public readonly registryHost: pulumi.Output<string>;
  /** The registry as pods reach it over the docker network, e.g. `kind-registry:5000`. */
  public readonly registryHostFromClusterNetwork: pulumi.Output<string>;
  /** Cached upstream host -> cache endpoint, e.g. `docker.io` -> `http://kind-cache-docker-io:5000`. */
  public readonly mirrors: pulumi.Output<Record<string, string>>;
  /** Docker container names of the nodes, control plane first. */
  public readonly nodeNames: pulumi.Output<string[]>;
  /** The docker network of the nodes, the registry and the caches. */
  public readonly networkName: pulumi.Output<string>;

  constructor(
    name: string,
    args: KindDevEnvironmentArgs = {},
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("kind-dev:index:KindDevEnvironment", name, {}, opts);
    const config = resolveConfig(args);

    const network = createNetwork(name, config, this);
    const registries = createRegistries(name, config, network, this);
    const registryContainers = [registries.registry, ...registries.caches];
    const cluster = createCluster(name, config, [network, ...registryContainers], this);
    createNodeHosts(name, config, cluster.command, registryContainers, this);
    createConfigMap(name, config, [cluster.command, registries.registry], cluster.provider, this);

    this.clusterName = cluster.command.id.apply(() => config.clusterName);
    this.kubeconfig = cluster.kubeconfig;
    providers.set(this, cluster.provider);
    this.registryHost = registries.registry.id.apply(() => config.registry.host);
    this.registryHostFromClusterNetwork = registries.registry.id.apply(
      () => config.registry.hostFromClusterNetwork,
    );
    this.mirrors = pulumi
      .all(registries.caches.map((c) => c.id))
      .apply(() => Object.fromEntries(config.caches.map((c) => [c.upstreamHost, c.endpoint])));
    this.nodeNames = cluster.command.id.apply(() => config.nodes.map((n) => n.name));
    this.networkName = network.id.apply(() => config.networkName);

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      provider: this.provider,
      registryHost: this.registryHost,
      registryHostFromClusterNetwork: this.registryHostFromClusterNetwork,
      mirrors: this.mirrors,
      nodeNames: this.nodeNames,
      networkName: this.networkName,
    });
  }
}
