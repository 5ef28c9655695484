import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { CacheArgs } from "./args";
import type { ResolvedConfig } from "./config";
import { type ContainerSpec, envList, REGISTRY_DATA_PATH } from "./render/containers";
import { adoptContainerCommand, waitForRegistryCommand } from "./render/scripts";
import { shellCommand } from "./shellCommand";

export interface RegistryContainer {
  readonly volume: docker.Volume;
  readonly adopt: command.local.Command;
  readonly container: docker.Container;
}

function labels(record: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.keys(record)
    .sort()
    .map((label) => ({ label, value: record[label] ?? "" }));
}

/**
 * One registry container (the push registry or a cache) with its named volume. The volume and
 * the container survive `pulumi destroy` when retained; the adopt step lets the next `pulumi up`
 * take the retained container back without a name clash, and the volume (created idempotently by
 * docker) brings the data along.
 */
function createRegistryContainer(
  name: string,
  spec: ContainerSpec,
  image: docker.RemoteImage,
  network: command.local.Command,
  retain: boolean,
  secretEnv: pulumi.Input<string[]> | undefined,
  parent: pulumi.Resource,
): RegistryContainer {
  const volume = new docker.Volume(
    `${name}-data`,
    { name: spec.volume, labels: labels(spec.labels) },
    { parent, retainOnDelete: retain },
  );
  const adopt = shellCommand(`${name}-adopt`, adoptContainerCommand(spec.name, spec.volume), {
    parent,
  });
  const env = envList(spec.env);
  const container = new docker.Container(
    name,
    {
      name: spec.name,
      image: image.imageId,
      restart: spec.restart,
      envs:
        secretEnv === undefined
          ? env
          : pulumi.output(secretEnv).apply((extra) => [...env, ...extra]),
      ports: spec.ports.map((p) => ({
        internal: p.containerPort,
        external: p.hostPort,
        ip: p.hostIp,
      })),
      volumes: [{ volumeName: volume.name, containerPath: REGISTRY_DATA_PATH }],
      networksAdvanced: [{ name: spec.network }],
      labels: labels(spec.labels),
    },
    {
      parent,
      dependsOn: [network, adopt],
      // Two containers cannot share a name: the old one must go before its replacement starts.
      deleteBeforeReplace: true,
      retainOnDelete: retain,
    },
  );
  return { volume, adopt, container };
}

export interface Registries {
  readonly image: docker.RemoteImage;
  readonly registry: RegistryContainer;
  readonly registryReady: command.local.Command;
  readonly caches: readonly RegistryContainer[];
}

/** Upstream credentials as environment entries, secret whatever the caller passed. */
function credentialsEnv(cache: CacheArgs): pulumi.Output<string[]> | undefined {
  if (cache.username === undefined && cache.password === undefined) {
    return undefined;
  }
  return pulumi.secret(
    pulumi
      .all([cache.username ?? "", cache.password ?? ""])
      .apply(([user, password]) => [
        ...(user === "" ? [] : [`REGISTRY_PROXY_USERNAME=${user}`]),
        ...(password === "" ? [] : [`REGISTRY_PROXY_PASSWORD=${password}`]),
      ]),
  );
}

/** The push registry, its readiness check, and one cache per upstream. */
export function createRegistries(
  name: string,
  config: ResolvedConfig,
  cacheArgs: readonly CacheArgs[],
  network: command.local.Command,
  parent: pulumi.Resource,
): Registries {
  const retain = config.retainOnDestroy;
  const image = new docker.RemoteImage(
    `${name}-registry-image`,
    { name: config.registry.spec.image, keepLocally: true },
    { parent },
  );
  const registry = createRegistryContainer(
    `${name}-registry`,
    config.registry.spec,
    image,
    network,
    retain,
    undefined,
    parent,
  );
  const registryReady = shellCommand(
    `${name}-registry-ready`,
    waitForRegistryCommand(config.registry.spec.name, config.registry.probeUrl),
    { parent, dependsOn: [registry.container] },
    // Probe again whenever the container is replaced.
    { triggers: [registry.container.id] },
  );
  const caches = config.caches.map((cache, i) =>
    createRegistryContainer(
      `${name}-cache-${cache.slug}`,
      cache.spec,
      image,
      network,
      retain,
      credentialsEnv(cacheArgs[i] ?? { upstreamHost: cache.upstreamHost }),
      parent,
    ),
  );
  return { image, registry, registryReady, caches };
}
