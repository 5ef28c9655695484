/**
 * The dev stack: one KindDevEnvironment configured from this directory's stack file
 * (`Pulumi.dev.yaml`). Every key is optional; see the README's args table for the defaults.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  type CacheArgs,
  KindDevEnvironment,
  type PortMappingArgs,
} from "../../components/kindDevEnvironment";

const config = new pulumi.Config();

interface CacheConfig extends Omit<CacheArgs, "username" | "password"> {
  /** Name of a secret config key that holds the upstream password, e.g. `dockerHubToken`. */
  readonly passwordSecret?: string;
  readonly username?: string;
}

const caches = config
  .getObject<CacheConfig[]>("caches")
  ?.map(({ passwordSecret, ...cache }): CacheArgs => ({
    ...cache,
    ...(passwordSecret === undefined ? {} : { password: config.requireSecret(passwordSecret) }),
  }));

const env = new KindDevEnvironment("dev", {
  clusterName: config.get("clusterName"),
  workers: config.getNumber("workers"),
  nodeImage: config.get("nodeImage"),
  maxParallelImagePulls: config.getNumber("maxParallelImagePulls"),
  extraPortMappings: config.getObject<PortMappingArgs[]>("extraPortMappings"),
  networkName: config.get("networkName"),
  registryName: config.get("registryName"),
  registryImage: config.get("registryImage"),
  registryPort: config.getNumber("registryPort"),
  bindAddress: config.get("bindAddress"),
  caches,
  retainOnDestroy: config.getBoolean("retainOnDestroy"),
});

export const clusterName = env.clusterName;
export const kubeconfig = env.kubeconfig;
export const registryHost = env.registryHost;
export const registryHostFromClusterNetwork = env.registryHostFromClusterNetwork;
export const mirrors = env.mirrors;
export const nodeNames = env.nodeNames;
export const networkName = env.networkName;
