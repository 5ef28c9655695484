import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { clusterCommand } from "./render/scripts";
import { shellCommand } from "./shellCommand";

export interface Cluster {
  readonly command: command.local.Command;
  /** The kubeconfig kind writes for the host, secret. */
  readonly kubeconfig: pulumi.Output<string>;
}

/**
 * The kind cluster, created only once the registry answers and the caches run. Any change to
 * its config replaces it: kind cannot reconfigure a running cluster, and the old one has to go
 * first because the new one takes the same name.
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
    {
      parent,
      dependsOn,
      replaceOnChanges: ["*"],
      deleteBeforeReplace: true,
      additionalSecretOutputs: ["stdout"],
    },
    {
      // stdout is the kubeconfig: keep it out of the logs and out of the delete script's env.
      logging: command.types.enums.local.Logging.Stderr,
      addPreviousOutputInEnv: false,
    },
  );
  return { command: cmd, kubeconfig: pulumi.secret(cmd.stdout) };
}
