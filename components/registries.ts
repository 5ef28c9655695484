import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedConfig, ResolvedCache } from "./config";
import { lookupContainer } from "./lookup";
import type { ContainerSpec } from "./render/containerSpecs";
import { scriptCommand } from "./scriptCommand";
import { registryContainerLines, registryContainerScript } from "./scripts";

/** A cache's upstream credentials as environment variables, secret whatever the caller passed. */
function credentials(cache: ResolvedCache): pulumi.Output<Record<string, string>> | undefined {
  if (cache.username === undefined && cache.password === undefined) {
    return undefined;
  }
  return pulumi.secret(
    pulumi
      .all([cache.username ?? "", cache.password ?? ""])
      .apply(([user, password]): Record<string, string> => ({
        ...(user === "" ? {} : { REGISTRY_PROXY_USERNAME: user }),
        ...(password === "" ? {} : { REGISTRY_PROXY_PASSWORD: password }),
      })),
  );
}

interface RegistryContainerArgs {
  readonly spec: ContainerSpec;
  /** Polled from the host until the registry answers; caches are not probed. */
  readonly probeUrl?: string;
  readonly secretEnv?: pulumi.Output<Record<string, string>>;
  readonly network: command.local.Command;
}

/**
 * One registry container (the push registry or a cache) on its named volume, as a command that
 * makes it exist as specified. Retained on `pulumi destroy` unless asked otherwise; the next
 * `pulumi up` keeps the running container. The program looks the container up at every run, so
 * one removed by hand while its volume stayed is brought back (REPAIR in scripts.ts).
 */
function registryContainer(
  name: string,
  config: ResolvedConfig,
  args: RegistryContainerArgs,
  parent: pulumi.Resource,
): command.local.Command {
  const removeOnDelete = !config.retainOnDestroy;
  const found = pulumi.output(lookupContainer(args.spec.name, args.spec.volume));
  // Secret when credentials are given: pulumi.all carries their secretness to the environment,
  // script texts included.
  const environment = pulumi.all([args.secretEnv ?? {}, found]).apply(
    ([secretEnv, { state: s, repair }]) =>
      registryContainerScript({
        spec: args.spec,
        probeUrl: args.probeUrl,
        secretEnv,
        state: s,
        repairMark: repair,
        removeOnDelete,
        ownCluster: config.clusterName,
        owner: `${pulumi.getProject()}/${pulumi.getStack()}`,
      }).environment,
  );
  // The command lines depend on retention alone; the environment, which carries the script
  // texts, on the lookup and the secrets too.
  return scriptCommand(
    name,
    { ...registryContainerLines(removeOnDelete), environment: {} },
    { parent, dependsOn: [args.network], retainOnDelete: config.retainOnDestroy },
    { environment },
  );
}

export interface Registries {
  readonly registry: command.local.Command;
  readonly caches: readonly command.local.Command[];
}

/** The push registry (ready once `GET /v2/` answers) and one cache per upstream. */
export function createRegistries(
  name: string,
  config: ResolvedConfig,
  network: command.local.Command,
  parent: pulumi.Resource,
): Registries {
  const registry = registryContainer(
    `${name}-registry`,
    config,
    { spec: config.registry.spec, probeUrl: config.registry.probeUrl, network },
    parent,
  );
  const caches = config.caches.map((cache) =>
    registryContainer(
      `${name}-cache-${cache.slug}`,
      config,
      { spec: cache.spec, secretEnv: credentials(cache), network },
      parent,
    ),
  );
  return { registry, caches };
}
