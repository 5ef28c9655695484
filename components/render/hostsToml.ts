/**
 * Which `hosts.toml` files every node gets, and their text. Pure: components/nodeHosts.ts writes
 * them into the nodes, and the doctor compares the nodes' files with them.
 */
import { hostSlug, tomlString } from "./text";

/** One `hosts.toml` that goes on every node. */
export interface HostsFile {
  /** Directory under /etc/containerd/certs.d, named after the registry host. */
  readonly hostDir: string;
  /** `hostDir` fit for resource names: `localhost-5001`. */
  readonly slug: string;
  readonly toml: string;
}

/**
 * `hosts.toml` for the push registry: pulls of `localhost:<port>/...` inside a node go to the
 * registry container over the docker network. `localhost` inside a node is the node itself, so
 * without this file such pulls fail with ImagePullBackOff.
 */
export function renderRegistryHostsToml(endpoint: string): string {
  return `[host.${tomlString(endpoint)}]\n`;
}

/**
 * `hosts.toml` for a cached upstream: containerd tries the cache first for pulls and resolves, and
 * keeps the upstream as `server`, so pulls still work while the cache is down.
 */
export function renderMirrorHostsToml(server: string, cacheEndpoint: string): string {
  return [
    `server = ${tomlString(server)}`,
    "",
    `[host.${tomlString(cacheEndpoint)}]`,
    `  capabilities = ["pull", "resolve"]`,
    "",
  ].join("\n");
}

/**
 * Every file a node gets. Both names of the push registry resolve on the nodes:
 * `localhost:<port>` as pushed from the host, and `<registryName>:5000` as pushed by builders
 * inside the cluster (KEP-1755's hostFromClusterNetwork; without a file containerd would try
 * HTTPS). Then one file per cached upstream.
 */
export function planHostsFiles(config: {
  readonly registry: {
    readonly host: string;
    readonly hostFromClusterNetwork: string;
    readonly endpoint: string;
  };
  readonly caches: readonly {
    readonly upstreamHost: string;
    readonly slug: string;
    readonly remoteUrl: string;
    readonly endpoint: string;
  }[];
}): HostsFile[] {
  const registry = renderRegistryHostsToml(config.registry.endpoint);
  return [
    { hostDir: config.registry.host, slug: hostSlug(config.registry.host), toml: registry },
    {
      hostDir: config.registry.hostFromClusterNetwork,
      slug: hostSlug(config.registry.hostFromClusterNetwork),
      toml: registry,
    },
    ...config.caches.map((c) => ({
      hostDir: c.upstreamHost,
      slug: c.slug,
      toml: renderMirrorHostsToml(c.remoteUrl, c.endpoint),
    })),
  ];
}
