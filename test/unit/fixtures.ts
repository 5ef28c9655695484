/** The default registry and Docker Hub cache, as plain spec inputs shared by the unit tests. */
export const REGISTRY_INPUT = {
  name: "kind-registry",
  image: "registry:3",
  network: "kind",
  volume: "kind-registry-data",
  hostIp: "127.0.0.1",
  hostPort: 5001,
} as const;

export const DOCKER_HUB_CACHE_INPUT = {
  name: "kind-cache-docker-io",
  image: "registry:3",
  network: "kind",
  volume: "kind-cache-docker-io-data",
  upstreamHost: "docker.io",
  remoteUrl: "https://registry-1.docker.io",
  hostIp: "127.0.0.1",
} as const;
