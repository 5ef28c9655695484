import type * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { readKubeconfig } from "./lookup";
import { renderKindConfig } from "./render/kindConfig";
import { scriptCommand } from "./scriptCommand";
import { CLUSTER_IDENTITY, clusterScript } from "./scripts";

export interface Cluster {
  readonly command: command.local.Command;
  /** The kubeconfig kind keeps for the cluster, secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** A Kubernetes provider for the cluster: the component's own resources and the caller's. */
  readonly provider: k8s.Provider;
}

/**
 * The kind cluster, created once the docker network, the registry and the caches exist
 * (`dependsOn`): a registry that cannot start stops `pulumi up` before `kind create cluster`
 * runs, so no cluster is left behind whose nodes would point at nothing; the nodes'
 * `hosts.toml` files wait for the cluster and for all of them (nodeHosts.ts). A change of its
 * config or name replaces it: kind cannot reconfigure a running cluster, and the old one has to
 * go first because the new one takes the same name. Only the environment variables that say
 * which cluster it is (CLUSTER_IDENTITY) replace it: the environment also carries the script
 * texts, and a change of those alone (a new version of this package) updates it in place,
 * which runs scripts/cluster-update.sh and leaves the cluster as it is. The kubeconfig is read
 * by the program once the cluster exists, never printed by a command (the command provider
 * logs what commands print).
 */
export function createCluster(
  name: string,
  config: ResolvedConfig,
  dependsOn: pulumi.Resource[],
  parent: pulumi.Resource,
): Cluster {
  const cmd = clusterCommand(name, config, dependsOn, parent);
  // Keyed on stdout, not id: the command provider hands out an id in previews too, for a
  // cluster that does not exist yet, while stdout stays unknown until the script has run.
  const kubeconfig = pulumi.secret(cmd.stdout.apply(() => readKubeconfig(config.clusterName)));
  const provider = new k8s.Provider(
    `${name}-k8s`,
    {
      kubeconfig,
      // A cluster deleted behind Pulumi's back must not block `pulumi destroy`.
      deleteUnreachable: true,
    },
    { parent, dependsOn: [cmd] },
  );
  return { command: cmd, kubeconfig, provider };
}

/** The cluster's command alone, `${name}-cluster` (see createCluster). */
export function clusterCommand(
  name: string,
  config: ResolvedConfig,
  dependsOn: pulumi.Resource[],
  parent: pulumi.Resource,
): command.local.Command {
  return scriptCommand(
    `${name}-cluster`,
    clusterScript(
      config.clusterName,
      config.networkName,
      renderKindConfig(config),
      config.nodeImage,
    ),
    {
      parent,
      dependsOn,
      replaceOnChanges: CLUSTER_IDENTITY.map((variable) => `environment.${variable}`),
      deleteBeforeReplace: true,
    },
  );
}
