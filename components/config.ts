/**
 * Validates the component's arguments and applies their defaults, once, into plain settings:
 * names, ports, the registry and cache container specs. No text is rendered here: each part of
 * the component renders its own (kind config in cluster.ts, hosts.toml in nodeHosts.ts, the
 * KEP-1755 data in configMap.ts). No resource is created; the only outside reads are
 * the ones a cache asks for (hostCredentials.ts: a Docker login, the daemon's mirrors; the
 * credential helper's file on PATH).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CacheArgs, KindDevEnvironmentArgs } from "./args";
import { realpathSync } from "node:fs";
import { dockerLogin, dockerMirrors, HOST, type HostAccess, onPath } from "./hostCredentials";
import {
  cacheContainerSpec,
  type ContainerSpec,
  REGISTRY_CONTAINER_PORT,
  registryContainerSpec,
} from "./render/containerSpecs";
import { kindNodeNames, type PortMapping } from "./render/kindConfig";
import { hostSlug, urlHost } from "./render/text";
import * as v from "./validate";

export const DEFAULTS = {
  clusterName: "kind",
  workers: 0,
  networkName: "kind",
  registryName: "kind-registry",
  registryImage: "registry:3",
  registryPort: 5001,
  bindAddress: "127.0.0.1",
  retainOnDestroy: true,
  dockerHubHost: "docker.io",
  dockerHubUrl: "https://registry-1.docker.io",
  credentialLifetime: "5m",
  maxParallelImagePulls: 5,
} as const;

export interface ResolvedCache {
  readonly upstreamHost: string;
  /** `upstreamHost` made safe for resource names: `docker.io` -> `docker-io`. */
  readonly slug: string;
  readonly remoteUrl: string;
  /** `http://<container>:5000`, as the nodes reach it. */
  readonly endpoint: string;
  readonly spec: ContainerSpec;
  /** Upstream credentials as given or read from Docker; the cache's part makes them secret. */
  readonly username?: pulumi.Input<string>;
  readonly password?: pulumi.Input<string>;
}

export interface NodePlan {
  /** Docker container name of the node. */
  readonly name: string;
  /** Name without the cluster prefix, used in resource names: `control-plane`, `worker2`. */
  readonly suffix: string;
}

export interface ResolvedConfig {
  readonly clusterName: string;
  readonly networkName: string;
  readonly workers: number;
  readonly nodeImage?: string;
  readonly maxParallelImagePulls: number;
  readonly extraPortMappings: readonly PortMapping[];
  readonly retainOnDestroy: boolean;
  readonly registry: {
    readonly spec: ContainerSpec;
    /** `localhost:<port>`: where images are pushed from the host and named in pod specs. */
    readonly host: string;
    /** `<container>:5000`: how pods reach the registry over the docker network. */
    readonly hostFromClusterNetwork: string;
    readonly endpoint: string;
    /** URL the readiness probe polls from the host. */
    readonly probeUrl: string;
  };
  readonly caches: readonly ResolvedCache[];
  readonly nodes: readonly NodePlan[];
}

function defaultRemoteUrl(upstreamHost: string): string {
  return upstreamHost === DEFAULTS.dockerHubHost
    ? DEFAULTS.dockerHubUrl
    : `https://${upstreamHost}`;
}

/** The first of the Docker daemon's `registry-mirrors`: where Docker itself pulls Docker Hub from. */
function daemonMirror(field: string, host: HostAccess): string {
  const mirror = dockerMirrors(field, host)[0];
  if (mirror === undefined) {
    throw new v.KindDevArgumentError(
      field,
      true,
      "the Docker daemon has no registry-mirrors ('docker info' lists none); add one to its daemon.json or drop useDockerMirror",
    );
  }
  return v.upstreamUrl(
    `${field} (the Docker daemon's registry-mirrors)`,
    mirror.replace(/\/+$/, ""),
  );
}

function checkUnique(field: string, values: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) {
      throw new v.KindDevArgumentError(field, value, `is used twice; each ${what} must be unique`);
    }
    seen.add(value);
  }
}

function resolveCache(
  cache: CacheArgs,
  index: number,
  image: string,
  network: string,
  bindAddress: string,
  host: HostAccess,
): ResolvedCache {
  const field = `caches[${index}]`;
  if (cache === null || typeof cache !== "object") {
    throw new v.KindDevArgumentError(field, cache, "must be an object with an upstreamHost");
  }
  const upstreamHost = v.registryHost(`${field}.upstreamHost`, cache.upstreamHost);
  const slug = hostSlug(upstreamHost);
  const fromDocker = v.boolean(
    `${field}.credentialsFromDocker`,
    cache.credentialsFromDocker ?? false,
  );
  const useMirror = v.boolean(`${field}.useDockerMirror`, cache.useDockerMirror ?? false);
  if (fromDocker && (cache.username !== undefined || cache.password !== undefined)) {
    throw new v.KindDevArgumentError(
      `${field}.credentialsFromDocker`,
      true,
      "cannot be combined with username or password: the login comes from one place",
    );
  }
  if (useMirror && (upstreamHost !== DEFAULTS.dockerHubHost || cache.remoteUrl !== undefined)) {
    throw new v.KindDevArgumentError(
      `${field}.useDockerMirror`,
      true,
      "is for the docker.io cache without a remoteUrl: Docker's registry-mirrors mirror Docker Hub only",
    );
  }
  const remoteUrl = useMirror
    ? daemonMirror(`${field}.useDockerMirror`, host)
    : v.upstreamUrl(`${field}.remoteUrl`, cache.remoteUrl ?? defaultRemoteUrl(upstreamHost));
  const login = fromDocker
    ? dockerLogin(`${field}.credentialsFromDocker`, new URL(remoteUrl).host, host)
    : undefined;
  const name = v.dockerName(
    `${field}.containerName`,
    cache.containerName ?? `kind-cache-${slug}`,
    "container",
  );
  const hostPort =
    cache.hostPort === undefined ? undefined : v.port(`${field}.hostPort`, cache.hostPort);
  const ttl = cache.ttl === undefined ? undefined : v.goDuration(`${field}.ttl`, cache.ttl);
  const helper = cacheHelper(field, cache, fromDocker, host);
  const username = login?.username ?? cache.username;
  const password = login?.password ?? cache.password;
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    upstreamHost,
    slug,
    remoteUrl,
    endpoint: `http://${name}:${REGISTRY_CONTAINER_PORT}`,
    spec: cacheContainerSpec({
      name,
      image,
      network,
      volume: `${name}-data`,
      upstreamHost,
      remoteUrl,
      ttl,
      hostIp: bindAddress,
      hostPort,
      ...helper,
    }),
  };
}

/** The host file of `credentialHelper` (resolved on PATH, symlinks followed) and its lifetime. */
function cacheHelper(
  field: string,
  cache: CacheArgs,
  fromDocker: boolean,
  host: HostAccess,
): { helper: string; helperLifetime: string } | undefined {
  if (cache.credentialHelper === undefined) {
    if (cache.credentialLifetime !== undefined) {
      throw new v.KindDevArgumentError(
        `${field}.credentialLifetime`,
        cache.credentialLifetime,
        "needs credentialHelper",
      );
    }
    return undefined;
  }
  const name = cache.credentialHelper;
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new v.KindDevArgumentError(
      `${field}.credentialHelper`,
      name,
      "must be a helper name such as ecr-login (the program docker-credential-ecr-login)",
    );
  }
  if (fromDocker || cache.username !== undefined || cache.password !== undefined) {
    throw new v.KindDevArgumentError(
      `${field}.credentialHelper`,
      name,
      "cannot be combined with credentialsFromDocker, username or password: the login comes from one place",
    );
  }
  const program = `docker-credential-${name}`;
  const found = onPath(host.env, program);
  // The path reaches `docker run --mount` as one field: no comma, no quote, no newline.
  const file = found === undefined ? undefined : realpathSync(found);
  if (file === undefined || !/^\/[A-Za-z0-9._@+/-]+$/.test(file)) {
    throw new v.KindDevArgumentError(
      `${field}.credentialHelper`,
      name,
      file === undefined
        ? `needs ${program} on PATH; install it or put its directory on PATH`
        : `resolves to ${JSON.stringify(file)}; a path of letters, digits and ._@+-/ is needed to mount it`,
    );
  }
  return {
    helper: file,
    helperLifetime: v.goDuration(
      `${field}.credentialLifetime`,
      cache.credentialLifetime ?? DEFAULTS.credentialLifetime,
    ),
  };
}

/** Validates every argument and applies the defaults. Throws KindDevArgumentError. */
export function resolveConfig(
  args: KindDevEnvironmentArgs = {},
  host: HostAccess = HOST,
): ResolvedConfig {
  const clusterName = v.clusterName(args.clusterName ?? DEFAULTS.clusterName);
  const workers = v.workers(args.workers ?? DEFAULTS.workers);
  const nodeImage =
    args.nodeImage === undefined ? undefined : v.imageReference("nodeImage", args.nodeImage);
  const maxParallelImagePulls = v.maxParallelImagePulls(
    args.maxParallelImagePulls ?? DEFAULTS.maxParallelImagePulls,
  );
  const networkName = v.networkName(args.networkName ?? DEFAULTS.networkName);
  const registryName = v.dockerName(
    "registryName",
    args.registryName ?? DEFAULTS.registryName,
    "container",
  );
  const registryImage = v.imageReference(
    "registryImage",
    args.registryImage ?? DEFAULTS.registryImage,
  );
  const registryPort = v.port("registryPort", args.registryPort ?? DEFAULTS.registryPort);
  const bindAddress = v.ipAddress("bindAddress", args.bindAddress ?? DEFAULTS.bindAddress);
  const retainOnDestroy = v.boolean(
    "retainOnDestroy",
    args.retainOnDestroy ?? DEFAULTS.retainOnDestroy,
  );

  const mappingsArg = args.extraPortMappings ?? [];
  if (!Array.isArray(mappingsArg)) {
    throw new v.KindDevArgumentError("extraPortMappings", mappingsArg, "must be a list");
  }
  const extraPortMappings: PortMapping[] = mappingsArg.map((m: unknown, i: number) => {
    const field = `extraPortMappings[${i}]`;
    if (m === null || typeof m !== "object") {
      throw new v.KindDevArgumentError(
        field,
        m,
        "must be an object with containerPort and hostPort",
      );
    }
    const mapping = m as Record<string, unknown>;
    return {
      containerPort: v.port(`${field}.containerPort`, mapping["containerPort"]),
      hostPort: v.port(`${field}.hostPort`, mapping["hostPort"]),
      listenAddress: v.ipAddress(
        `${field}.listenAddress`,
        mapping["listenAddress"] ?? DEFAULTS.bindAddress,
      ),
      protocol: v.protocol(`${field}.protocol`, mapping["protocol"] ?? "TCP"),
    };
  });

  const cachesArg = args.caches ?? [{ upstreamHost: DEFAULTS.dockerHubHost }];
  if (!Array.isArray(cachesArg)) {
    throw new v.KindDevArgumentError("caches", cachesArg, "must be a list");
  }
  const caches = cachesArg.map((c: CacheArgs, i: number) =>
    resolveCache(c, i, registryImage, networkName, bindAddress, host),
  );

  const registryHost = `localhost:${registryPort}`;
  const registryHostFromClusterNetwork = `${registryName}:${REGISTRY_CONTAINER_PORT}`;
  checkUnique(
    "caches[].upstreamHost",
    [registryHost, registryHostFromClusterNetwork, ...caches.map((c) => c.upstreamHost)],
    "cached upstream (and the push registry's own hosts, localhost:<registryPort> and <registryName>:5000)",
  );
  checkUnique(
    "caches[].upstreamHost",
    [hostSlug(registryHostFromClusterNetwork), ...caches.map((c) => c.slug)],
    "upstream host, once '.', ':' and '-' are treated alike,",
  );
  checkUnique(
    "container name",
    [registryName, ...caches.map((c) => c.spec.name)],
    "registry and cache container",
  );
  checkUnique(
    "host port",
    [
      `${registryPort}/TCP`,
      ...caches.flatMap((c) => c.spec.ports.map((p) => `${p.hostPort}/TCP`)),
      ...extraPortMappings.map((m) => `${m.hostPort}/${m.protocol}`),
    ],
    "port published on the host (registryPort, caches[].hostPort, extraPortMappings[].hostPort)",
  );

  const nodes = kindNodeNames(clusterName, workers).map((name) => ({
    name,
    suffix: name.slice(clusterName.length + 1),
  }));

  return {
    clusterName,
    networkName,
    workers,
    nodeImage,
    maxParallelImagePulls,
    extraPortMappings,
    retainOnDestroy,
    registry: {
      spec: registryContainerSpec({
        name: registryName,
        image: registryImage,
        network: networkName,
        volume: `${registryName}-data`,
        hostIp: bindAddress,
        hostPort: registryPort,
      }),
      host: registryHost,
      hostFromClusterNetwork: registryHostFromClusterNetwork,
      endpoint: `http://${registryName}:${REGISTRY_CONTAINER_PORT}`,
      probeUrl: `http://${urlHost(bindAddress, { connect: true })}:${registryPort}/v2/`,
    },
    caches,
    nodes,
  };
}
