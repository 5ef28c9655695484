import { tomlString } from "./text";

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
