/**
 * `hosts.toml` on every node: the commands that write the files render/hostsToml.ts plans.
 * containerd reads /etc/containerd/certs.d/<host>/hosts.toml at pull time, once the kind config's
 * patch has set `config_path` (render/containerd.ts).
 */
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig } from "./config";
import { planHostsFiles } from "./render/hostsToml";
import { scriptCommand } from "./scriptCommand";
import { hostsTomlScript } from "./scripts";

/**
 * One command per node and registry host writes that host's `hosts.toml` into the node. They
 * are recreated with the cluster (its id is a trigger), and the old one is removed first so its
 * delete step cannot erase the file just written on a new node of the same name.
 */
export function createHostsToml(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  parent: pulumi.Resource,
): command.local.Command[] {
  const files = planHostsFiles(config);
  return config.nodes.flatMap((node) =>
    files.map((file) =>
      scriptCommand(
        `${name}-${node.suffix}-hosts-${file.slug}`,
        hostsTomlScript(node.name, file.hostDir, file.toml),
        { parent, dependsOn: [cluster], deleteBeforeReplace: true },
        { triggers: [cluster.id] },
      ),
    ),
  );
}
