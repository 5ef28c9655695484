import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { readKubeconfig } from "./lookup";
import { clusterCommand } from "./render/scripts";
import { shellCommand } from "./shellCommand";

export interface Cluster {
  readonly command: command.local.Command;
  /** The kubeconfig kind keeps for the cluster, secret. */
  readonly kubeconfig: pulumi.Output<string>;
}

/**
 * The kind cluster, created only once the registry answers and the caches run. Any change to
 * its config replaces it: kind cannot reconfigure a running cluster, and the old one has to go
 * first because the new one takes the same name. The kubeconfig is read by the program once the
 * cluster exists, never printed by a command (the command provider logs what commands print).
 */
export function createCluster(
  name: string,
  config: ResolvedConfig,
  dependsOn: pulumi.Resource[],
  parent: pulumi.Resource,
): Cluster {
  const cmd = shellCommand(
    `${name}-cluster`,
    clusterCommand(config.clusterName, config.networkName, config.kindConfig),
    { parent, dependsOn, replaceOnChanges: ["*"], deleteBeforeReplace: true },
  );
  // Keyed on stdout, not id: the command provider hands out an id in previews too, for a
  // cluster that does not exist yet, while stdout stays unknown until the script has run.
  const kubeconfig = pulumi.secret(cmd.stdout.apply(() => readKubeconfig(config.clusterName)));
  return { command: cmd, kubeconfig };
}
