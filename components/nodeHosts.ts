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
import { hostsScript } from "./scripts";

/**
 * One command per node, `${name}-${node}-hosts`, writes all of that node's `hosts.toml` files in
 * one `docker exec` (scripts.ts hostsScript). Its environment holds one variable per file
 * (`HOSTS_TOML_DOCKER_IO`, ...), so `pulumi preview` names the file that changes, and the node
 * keeps a manifest of the directories the command wrote: an update writes only the files that
 * differ and removes only directories it wrote. The commands are recreated with the cluster
 * (its id is a trigger), the old one removed first so its delete step cannot erase the files
 * just written on a new node of the same name. They run once the cluster exists and the
 * registry and caches run (`dependsOn`), so no file names a registry that is not there.
 */
export function createNodeHosts(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  registries: readonly pulumi.Resource[],
  parent: pulumi.Resource,
): command.local.Command[] {
  const files = planHostsFiles(config);
  return config.nodes.map((node) =>
    scriptCommand(
      `${name}-${node.suffix}-hosts`,
      hostsScript(node.name, files),
      { parent, dependsOn: [cluster, ...registries], deleteBeforeReplace: true },
      { triggers: [cluster.id] },
    ),
  );
}
