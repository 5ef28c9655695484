/**
 * Which cluster, registry and caches the doctor looks at, and what the component would have
 * rendered for them. Pure: it works on what docker, kind and kubectl printed. The component's own
 * plan (resolveConfig) gives the expected `hosts.toml` files and ConfigMap, so the doctor and the
 * component cannot drift apart.
 */
import { type HostsFile, planHostsFiles } from "../render/hostsToml";
import { renderLocalRegistryHosting } from "../render/localRegistryHosting";
import { resolveConfig } from "../config";
import {
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_UPSTREAM,
  REGISTRY_CONTAINER_PORT,
  REGISTRY_DATA_PATH,
} from "../render/containerSpecs";
import { urlHost } from "../render/text";
import type { Listed, Narrowing } from "./facts";
import { type ContainerInfo, own } from "./parse";

/** The registry or a cache. */
interface Target {
  /** Container name. */
  readonly name: string;
  /** Absent when no container of that name exists (removed by hand). */
  readonly container?: ContainerInfo;
  readonly volume: string;
  /** How the doctor found it, for the report. */
  readonly foundBy: string;
}

export interface RegistryTarget extends Target {
  /** Host port of `localhost:<port>`, from the container or else from the ConfigMap. */
  readonly port?: number;
}

export interface CacheTarget extends Target {
  /** Registry host that image references name: `docker.io`. */
  readonly upstreamHost: string;
  /** Where the cache fetches from: `https://registry-1.docker.io`. */
  readonly remoteUrl: string;
}

/** A container this package made for that role. */
function hasRole(c: ContainerInfo, role: "registry" | "cache"): boolean {
  return c.labels[LABEL_MANAGED] === "true" && c.labels[LABEL_ROLE] === role;
}

/** The volume mounted at the registry's data path, else the component's naming rule. */
export function dataVolume(name: string, c: ContainerInfo | undefined): string {
  return c?.volumes.find((v) => v.destination === REGISTRY_DATA_PATH)?.name ?? `${name}-data`;
}

/** The host port published for the registry's port 5000, if any. */
export function publishedPort(c: ContainerInfo): number | undefined {
  const port = `${REGISTRY_CONTAINER_PORT}/tcp`;
  return c.ports.find((p) => p.containerPort === port && p.hostPort > 0)?.hostPort;
}

/**
 * The registry's API base URL from the host, at the address it is published on (a wildcard
 * address is reached on loopback).
 */
export function registryUrl(c: ContainerInfo, port: number): string {
  const ip = c.ports.find((p) => p.hostPort === port)?.hostIp ?? "127.0.0.1";
  return `http://${urlHost(ip, { connect: true })}:${port}`;
}

export interface ClusterChoice {
  readonly name?: string;
  /** Why none was chosen. */
  readonly problem?: string;
}

/**
 * The cluster to check: the requested one; else the only one; else the only one whose network
 * holds a pulumi-kind-dev registry.
 */
export function selectCluster(
  requested: string | undefined,
  clusters: readonly string[],
  clusterNetworks: Readonly<Record<string, readonly string[]>>,
  containers: readonly ContainerInfo[],
): ClusterChoice {
  if (requested !== undefined) {
    return clusters.includes(requested)
      ? { name: requested }
      : {
          problem: `no kind cluster named ${requested} (kind get clusters: ${list(clusters)})`,
        };
  }
  if (clusters.length === 0) {
    return { problem: "no kind cluster (kind get clusters lists none)" };
  }
  if (clusters.length === 1) {
    return { name: clusters[0] };
  }
  const registryNetworks = new Set(
    containers.filter((c) => hasRole(c, "registry")).flatMap((c) => c.networks),
  );
  const withRegistry = clusters.filter((name) =>
    (own(clusterNetworks, name) ?? []).some((n) => registryNetworks.has(n)),
  );
  if (withRegistry.length === 1) {
    return { name: withRegistry[0] };
  }
  return {
    problem: `several kind clusters (${list(clusters)}) and ${
      withRegistry.length === 0 ? "none" : `${withRegistry.length}`
    } with a pulumi-kind-dev registry on its network: choose one with --cluster`,
  };
}

const list = (values: readonly string[]) => values.join(", ") || "none";

/** One field of the KEP-1755 value (`host`, `hostFromClusterNetwork`), quoted or not. */
export function kepField(text: string | undefined, key: string): string | undefined {
  return new RegExp(`^${key}:\\s*(["']?)([^"'\\n]*)\\1\\s*$`, "m").exec(text ?? "")?.[2];
}

/** `[host."http://NAME:5000"]` in a hosts.toml -> NAME. */
function endpointName(toml: string): string | undefined {
  const m = new RegExp(`\\[host\\."http://([^":/\\]]+):${REGISTRY_CONTAINER_PORT}"\\]`).exec(toml);
  return m?.[1];
}

export interface RegistryInput {
  readonly requested?: string;
  /** The labelled containers, and the requested one if it exists. */
  readonly containers: readonly ContainerInfo[];
  /** The cluster's docker network. */
  readonly network?: string;
  /** `localRegistryHosting.v1` of the ConfigMap, when it exists. */
  readonly configMap?: string;
  /** Every node's `hosts.toml` files: host dir -> text. */
  readonly nodeHosts: readonly Readonly<Record<string, string>>[];
}

/**
 * The push registry: the one named with --registry; else the labelled registry on the cluster's
 * network; else the container the ConfigMap names (it may be off the network, or gone); else the
 * one the nodes' `hosts.toml` for `localhost:<port>` points at; else the only labelled registry.
 */
export function selectRegistry(input: RegistryInput): RegistryTarget | undefined {
  const hostingPort = portOf(kepField(input.configMap, "host"));
  const fromHosts = input.nodeHosts
    .flatMap((files) => Object.entries(files))
    .filter(([dir]) => /^localhost:\d+$/.test(dir))
    .map(([dir, toml]) => ({ name: endpointName(toml), port: portOf(dir) }))
    .find((e) => e.name !== undefined);
  const target = (name: string, foundBy: string, port?: number): RegistryTarget => {
    const container = input.containers.find((c) => c.name === name);
    return {
      name,
      container,
      port: (container === undefined ? undefined : publishedPort(container)) ?? port,
      volume: dataVolume(name, container),
      foundBy,
    };
  };

  if (input.requested !== undefined) {
    return target(input.requested, "--registry", hostingPort ?? fromHosts?.port);
  }
  const labelled = input.containers
    .filter((c) => hasRole(c, "registry"))
    .sort((a, b) => a.name.localeCompare(b.name));
  const onNetwork = labelled.find(
    (c) => input.network !== undefined && c.networks.includes(input.network),
  );
  if (onNetwork !== undefined) {
    return target(onNetwork.name, `label, on network ${input.network}`, hostingPort);
  }
  const hostingName = kepField(input.configMap, "hostFromClusterNetwork")?.split(":")[0];
  if (hostingName !== undefined && hostingName !== "") {
    return target(hostingName, "the ConfigMap's hostFromClusterNetwork", hostingPort);
  }
  if (fromHosts?.name !== undefined) {
    return target(fromHosts.name, "the nodes' hosts.toml", fromHosts.port);
  }
  if (labelled.length === 1 && labelled[0] !== undefined) {
    return target(labelled[0].name, "label (the only one)");
  }
  return undefined;
}

function portOf(host: string | undefined): number | undefined {
  const m = /:(\d+)$/.exec(host ?? "");
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export type CacheInput = Omit<RegistryInput, "requested" | "configMap">;

/**
 * The caches: labelled caches on the cluster's network, and every container a node's mirror
 * `hosts.toml` points at (it may be off the network, stopped, or gone).
 */
export function selectCaches(input: CacheInput): CacheTarget[] {
  const out = new Map<string, CacheTarget>();
  const add = (name: string, foundBy: string, upstreamHost: string, remoteUrl: string) => {
    const c = input.containers.find((x) => x.name === name);
    out.set(name, {
      name,
      container: c,
      upstreamHost: c?.labels[LABEL_UPSTREAM] ?? upstreamHost,
      remoteUrl: c?.env["REGISTRY_PROXY_REMOTEURL"] ?? remoteUrl,
      volume: dataVolume(name, c),
      foundBy,
    });
  };
  const network = input.network;
  for (const c of input.containers) {
    if (hasRole(c, "cache") && network !== undefined && c.networks.includes(network)) {
      add(c.name, `label, on network ${network}`, "", "");
    }
  }
  for (const [dir, toml] of input.nodeHosts.flatMap((files) => Object.entries(files))) {
    const name = endpointName(toml);
    const server = /^\s*server\s*=\s*"([^"]*)"/m.exec(toml)?.[1];
    if (name !== undefined && server !== undefined && !out.has(name)) {
      add(name, `the nodes' hosts.toml for ${dir}`, dir, server);
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** What the component renders for this registry and these caches. */
export interface Expected {
  /** Every `hosts.toml` a node gets, in the component's order. */
  readonly hostsFiles: readonly HostsFile[];
  /** `localRegistryHosting.v1`. */
  readonly localRegistryHosting: string;
}

/**
 * The component's own plan for these names, so the comparison uses its renderers. Throws the
 * component's KindDevArgumentError when the names found are not ones it could have made.
 */
export function expectedFiles(
  registry: { readonly name: string; readonly port: number },
  caches: readonly CacheTarget[],
): Expected {
  const config = resolveConfig({
    registryName: registry.name,
    registryPort: registry.port,
    caches: caches.map((c) => ({
      upstreamHost: c.upstreamHost,
      remoteUrl: c.remoteUrl,
      containerName: c.name,
    })),
  });
  return {
    hostsFiles: planHostsFiles(config),
    localRegistryHosting: renderLocalRegistryHosting(config.registry),
  };
}

/** What the doctor checks, chosen from what it found. */
export interface Targets {
  readonly cluster: ClusterChoice;
  /** The cluster's docker network: the first one of its first node that has one. */
  readonly network?: string;
  readonly registry?: RegistryTarget;
  readonly caches: readonly CacheTarget[];
  /** What the component renders for them, or why these are not names it makes. */
  readonly expected: Expected | { readonly error: string };
  /**
   * The `hosts.toml` files the doctor can predict: without a known registry (or its port) its
   * files are left out.
   */
  readonly expectedHosts: readonly HostsFile[];
}

/** The cluster, registry and caches to check: a pure function of the facts. */
export function chooseTargets(requested: Narrowing, found: Listed): Targets {
  const { clusters, clusterNetworks, containers } = found;
  const cluster = selectCluster(requested.cluster, clusters, clusterNetworks, containers);
  const network = found.nodes
    .map((n) => found.nodeContainers.find((c) => c.name === n)?.networks[0])
    .find((n) => n);
  const nodeHosts = Object.values(found.nodeFiles).map((f) => f.hostsToml);
  const registry = selectRegistry({
    requested: requested.registry,
    containers,
    network,
    configMap: found.configMap.value,
    nodeHosts,
  });
  const caches = selectCaches({ containers, network, nodeHosts });
  let expected: Targets["expected"];
  try {
    expected = expectedFiles(
      { name: registry?.name ?? "kind-registry", port: registry?.port ?? 5001 },
      caches,
    );
  } catch (e) {
    expected = { error: (e as Error).message };
  }
  const expectedHosts =
    "error" in expected
      ? []
      : expected.hostsFiles.filter(
          (f) =>
            f.toml.includes("server =") ||
            (registry !== undefined &&
              (registry.port !== undefined || !f.hostDir.startsWith("localhost:"))),
        );
  return {
    cluster,
    ...(network === undefined ? {} : { network }),
    ...(registry === undefined ? {} : { registry }),
    caches,
    expected,
    expectedHosts,
  };
}
