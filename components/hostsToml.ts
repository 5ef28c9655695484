/**
 * `hosts.toml` on every node: the commands that write the files render/hostsToml.ts plans.
 * containerd reads /etc/containerd/certs.d/<host>/hosts.toml at pull time, once the kind config's
 * patch has set `config_path` (render/containerd.ts).
 */
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { NodePlan, ResolvedConfig } from "./config";
import { nodeHasUnmanagedHostsFiles } from "./lookup";
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
 *
 * The upgrade from 0.1, which ran one command per node and file
 * (`${name}-${node}-hosts-${slug}`). Pulumi deletes the resources a program no longer declares
 * at the end of `pulumi up`, after every create, with the delete step stored in the state (the
 * 0.1 text, which removes certs.d/<host> from the node): they would erase the files the node's
 * new command has just written. An alias cannot prevent it, since one resource takes over only
 * one old one. So while the control-plane node holds `hosts.toml` files but no manifest
 * (lookup.ts), each old name is declared once more as a handover: a command that does nothing,
 * with a new trigger and `deleteBeforeReplace`, so Pulumi runs the old delete step right then,
 * and the node's command depends on its handovers, so it writes after them. The next
 * `pulumi up` finds the manifest and declares no handovers; Pulumi deletes them (they have no
 * delete step). test/integration/engine.test.ts runs that upgrade on the real engine.
 */
export function createHostsToml(
  name: string,
  config: ResolvedConfig,
  cluster: command.local.Command,
  registries: readonly pulumi.Resource[],
  parent: pulumi.Resource,
): command.local.Command[] {
  const files = planHostsFiles(config);
  const controlPlane = config.nodes[0];
  const fromVersion01 =
    controlPlane === undefined
      ? Promise.resolve(false)
      : nodeHasUnmanagedHostsFiles(controlPlane.name);
  const handover = (node: NodePlan): command.local.Command[] =>
    files.map(
      (file) =>
        new command.local.Command(
          `${name}-${node.suffix}-hosts-${file.slug}`,
          { create: "true", triggers: [`handed over to ${name}-${node.suffix}-hosts`] },
          { parent, dependsOn: [cluster], deleteBeforeReplace: true },
        ),
    );
  return config.nodes.map((node) => {
    const dependsOn: Promise<pulumi.Resource[]> = fromVersion01.then((upgrade) => [
      cluster,
      ...registries,
      ...(upgrade ? handover(node) : []),
    ]);
    return scriptCommand(
      `${name}-${node.suffix}-hosts`,
      hostsScript(node.name, files),
      { parent, dependsOn, deleteBeforeReplace: true },
      { triggers: [cluster.id] },
    );
  });
}
