import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { hostsTomlCommand } from "./render/scripts";
import { shellCommand } from "./shellCommand";

/**
 * One command per node and registry host writes that host's `hosts.toml` into the node. They
 * are recreated with the cluster (its id is a trigger), and the old one is removed first so its
 * delete step cannot erase the file just written on a new node of the same name.
 */
export function createNodeConfig(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  parent: pulumi.Resource,
): command.local.Command[] {
  return config.nodes.flatMap((node) =>
    config.hostsFiles.map((file) =>
      shellCommand(
        `${name}-${node.suffix}-hosts-${file.slug}`,
        hostsTomlCommand(node.name, file.hostDir, file.toml),
        { parent, dependsOn: [cluster], deleteBeforeReplace: true },
        { triggers: [cluster.id] },
      ),
    ),
  );
}
