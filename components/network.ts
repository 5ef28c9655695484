import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { scriptCommand } from "./scriptCommand";
import { networkScript } from "./scripts";

/**
 * The docker network shared by the nodes, the registry and the caches. A command rather than a
 * `docker.Network`: it must reuse a network that kind or an earlier stack already created, and
 * creating a second network with the same name is never wanted.
 */
export function createNetwork(
  name: string,
  config: ResolvedConfig,
  parent: pulumi.Resource,
): command.local.Command {
  return scriptCommand(
    `${name}-network`,
    networkScript(config.networkName, !config.retainOnDestroy),
    { parent, retainOnDelete: config.retainOnDestroy },
  );
}
