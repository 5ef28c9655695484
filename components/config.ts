/**
 * Turns the component's arguments into a validated, fully defaulted plan. Pure: no resource is
 * created here, so the whole plan can be checked, tested and reused by the integration tests.
 */
import type { CacheArgs, KindDevEnvironmentArgs } from "./args";
import {
  cacheContainerSpec,
  type ContainerSpec,
  REGISTRY_CONTAINER_PORT,
  registryContainerSpec,
} from "./render/containers";
import { renderMirrorHostsToml, renderRegistryHostsToml } from "./render/hostsToml";
import { kindNodeNames, type PortMapping, renderKindConfig } from "./render/kindConfig";
import {
  LOCAL_REGISTRY_HELP_URL,
  type LocalRegistryHosting,
  renderLocalRegistryHosting,
} from "./render/localRegistryHosting";
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
}

/** One `hosts.toml` that goes on every node. */
export interface HostsFile {
  /** Directory under /etc/containerd/certs.d, named after the registry host. */
  readonly hostDir: string;
  readonly slug: string;
  readonly toml: string;
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
  readonly hostsFiles: readonly HostsFile[];
  readonly kindConfig: string;
  readonly localRegistryHosting: LocalRegistryHosting;
  readonly localRegistryHostingYaml: string;
}

/** `docker.io` -> `docker-io`: a host made fit for resource and container names. */
export function hostSlug(host: string): string {
  return host.replace(/[^a-z0-9]+/g, "-");
}

function defaultRemoteUrl(upstreamHost: string): string {
  return upstreamHost === DEFAULTS.dockerHubHost
    ? DEFAULTS.dockerHubUrl
    : `https://${upstreamHost}`;
}

function probeHost(bindAddress: string): string {
  if (bindAddress === "0.0.0.0") {
    return "127.0.0.1";
  }
  if (bindAddress === "::") {
    return "[::1]";
  }
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
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
): ResolvedCache {
  const field = `caches[${index}]`;
  if (cache === null || typeof cache !== "object") {
    throw new v.KindDevArgumentError(field, cache, "must be an object with an upstreamHost");
  }
  const upstreamHost = v.registryHost(`${field}.upstreamHost`, cache.upstreamHost);
  const slug = hostSlug(upstreamHost);
  const remoteUrl = v.upstreamUrl(
    `${field}.remoteUrl`,
    cache.remoteUrl ?? defaultRemoteUrl(upstreamHost),
  );
  const name = v.dnsLabel(`${field}.containerName`, cache.containerName ?? `kind-cache-${slug}`);
  const hostPort =
    cache.hostPort === undefined ? undefined : v.port(`${field}.hostPort`, cache.hostPort);
  const ttl = cache.ttl === undefined ? undefined : v.goDuration(`${field}.ttl`, cache.ttl);
  return {
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
    }),
  };
}

/** Validates every argument and applies the defaults. Throws KindDevArgumentError. */
export function resolveConfig(args: KindDevEnvironmentArgs = {}): ResolvedConfig {
  const clusterName = v.clusterName(args.clusterName ?? DEFAULTS.clusterName);
  const workers = v.workers(args.workers ?? DEFAULTS.workers);
  const nodeImage =
    args.nodeImage === undefined ? undefined : v.imageReference("nodeImage", args.nodeImage);
  const maxParallelImagePulls = v.maxParallelImagePulls(
    args.maxParallelImagePulls ?? DEFAULTS.maxParallelImagePulls,
  );
  const networkName = v.dnsLabel("networkName", args.networkName ?? DEFAULTS.networkName);
  const registryName = v.dnsLabel("registryName", args.registryName ?? DEFAULTS.registryName);
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
    resolveCache(c, i, registryImage, networkName, bindAddress),
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

  const registryEndpoint = `http://${registryName}:${REGISTRY_CONTAINER_PORT}`;
  // Both names of the push registry resolve on the nodes: `localhost:<port>` as pushed from the
  // host, and `<registryName>:5000` as pushed by builders inside the cluster (KEP-1755's
  // hostFromClusterNetwork). containerd would try HTTPS for the latter without a hosts.toml.
  const hostsFiles: HostsFile[] = [
    {
      hostDir: registryHost,
      slug: hostSlug(registryHost),
      toml: renderRegistryHostsToml(registryEndpoint),
    },
    {
      hostDir: registryHostFromClusterNetwork,
      slug: hostSlug(registryHostFromClusterNetwork),
      toml: renderRegistryHostsToml(registryEndpoint),
    },
    ...caches.map((c) => ({
      hostDir: c.upstreamHost,
      slug: c.slug,
      toml: renderMirrorHostsToml(c.remoteUrl, c.endpoint),
    })),
  ];

  const nodes = kindNodeNames(clusterName, workers).map((name) => ({
    name,
    suffix: name.slice(clusterName.length + 1),
  }));

  const localRegistryHosting: LocalRegistryHosting = {
    host: registryHost,
    hostFromContainerRuntime: registryHost,
    hostFromClusterNetwork: registryHostFromClusterNetwork,
    help: LOCAL_REGISTRY_HELP_URL,
  };

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
      hostFromClusterNetwork: localRegistryHosting.hostFromClusterNetwork,
      endpoint: registryEndpoint,
      probeUrl: `http://${probeHost(bindAddress)}:${registryPort}/v2/`,
    },
    caches,
    nodes,
    hostsFiles,
    kindConfig: renderKindConfig({
      clusterName,
      workers,
      nodeImage,
      extraPortMappings,
      maxParallelImagePulls,
    }),
    localRegistryHosting,
    localRegistryHostingYaml: renderLocalRegistryHosting(localRegistryHosting),
  };
}
