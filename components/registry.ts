import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { CacheArgs } from "./args";
import type { ResolvedConfig } from "./config";
import { containerState } from "./lookup";
import type { ContainerSpec } from "./render/containers";
import { registryContainerCommand } from "./render/scripts";
import { shellCommand } from "./shellCommand";

/** Upstream credentials as environment variables, secret whatever the caller passed. */
function credentials(
  cache: CacheArgs | undefined,
): pulumi.Output<Record<string, string>> | undefined {
  if (cache?.username === undefined && cache?.password === undefined) {
    return undefined;
  }
  return pulumi.secret(
    pulumi.all([cache.username ?? "", cache.password ?? ""]).apply(([user, password]) => {
      const env: Record<string, string> = {};
      if (user !== "") {
        env["REGISTRY_PROXY_USERNAME"] = user;
      }
      if (password !== "") {
        env["REGISTRY_PROXY_PASSWORD"] = password;
      }
      return env;
    }),
  );
}

/**
 * One registry container (the push registry or a cache) on its named volume, as a command that
 * makes it exist as specified. Retained on `pulumi destroy` unless asked otherwise; the next
 * `pulumi up` keeps the running container (see containerCommand). A container removed by hand
 * while its volume stayed is noticed by a lookup and brought back on that volume.
 */
function registryContainer(
  name: string,
  spec: ContainerSpec,
  probeUrl: string | undefined,
  cache: CacheArgs | undefined,
  config: ResolvedConfig,
  network: command.local.Command,
  parent: pulumi.Resource,
): command.local.Command {
  const removeOnDelete = !config.retainOnDestroy;
  const state = pulumi.output(containerState(spec.name, spec.volume));
  // Secret when credentials are given: pulumi.all carries their secretness to the environment.
  const environment = pulumi
    .all([credentials(cache) ?? {}, state])
    .apply(
      ([secretEnv, s]) =>
        registryContainerCommand({ spec, probeUrl, secretEnv, state: s, removeOnDelete })
          .environment,
    );
  // The scripts are constants; only the environment depends on the lookup and the secrets.
  const scripts = registryContainerCommand({
    spec,
    probeUrl,
    secretEnv: {},
    state: "absent",
    removeOnDelete,
  });
  return shellCommand(
    name,
    scripts,
    { parent, dependsOn: [network], retainOnDelete: config.retainOnDestroy },
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
  cacheArgs: readonly CacheArgs[],
  network: command.local.Command,
  parent: pulumi.Resource,
): Registries {
  const registry = registryContainer(
    `${name}-registry`,
    config.registry.spec,
    config.registry.probeUrl,
    undefined,
    config,
    network,
    parent,
  );
  const caches = config.caches.map((cache, i) =>
    registryContainer(
      `${name}-cache-${cache.slug}`,
      cache.spec,
      undefined,
      cacheArgs[i],
      config,
      network,
      parent,
    ),
  );
  return { registry, caches };
}
