/** components/render/containerSpecs.ts: the registry and cache containers as plain data. */
import { describe, expect, it } from "vitest";
import * as specs from "../../../components/render/containerSpecs";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";

describe("container specs", () => {
  it("registry: loopback port, delete enabled, labels, named volume", () => {
    expect(specs.registryContainerSpec(REGISTRY_INPUT)).toEqual({
      role: "registry",
      name: "kind-registry",
      image: "registry:3",
      network: "kind",
      volume: "kind-registry-data",
      env: { REGISTRY_STORAGE_DELETE_ENABLED: "true" },
      ports: [{ hostIp: "127.0.0.1", hostPort: 5001, containerPort: 5000 }],
      labels: { "dev.pulumi-kind-dev.managed": "true", "dev.pulumi-kind-dev.role": "registry" },
      restart: "always",
    });
  });

  it("cache: proxy mode, optional TTL, unpublished unless a host port is given", () => {
    const plain = specs.cacheContainerSpec(DOCKER_HUB_CACHE_INPUT);
    expect(plain.env).toEqual({
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(plain.ports).toEqual([]);
    expect(plain.labels).toEqual({
      "dev.pulumi-kind-dev.managed": "true",
      "dev.pulumi-kind-dev.role": "cache",
      "dev.pulumi-kind-dev.upstream": "docker.io",
    });
    const published = specs.cacheContainerSpec({
      ...DOCKER_HUB_CACHE_INPUT,
      ttl: "72h",
      hostPort: 5002,
    });
    expect(specs.envList(published.env)).toEqual([
      "REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io",
      "REGISTRY_PROXY_TTL=72h",
      "REGISTRY_STORAGE_DELETE_ENABLED=true",
    ]);
    expect(published.ports).toEqual([{ hostIp: "127.0.0.1", hostPort: 5002, containerPort: 5000 }]);
  });

  it("describes a container's settings in words the script can compare", () => {
    expect(specs.describeSettings(specs.registryContainerSpec(REGISTRY_INPUT))).toBe(
      "image=registry:3 network=kind volume=kind-registry-data publish=127.0.0.1:5001:5000 env.REGISTRY_STORAGE_DELETE_ENABLED=true",
    );
  });
});
