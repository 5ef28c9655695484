/** components/config.ts: the arguments' defaults and what they derive. Errors: validate.test.ts. */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";

describe("resolveConfig defaults", () => {
  it("resolves an empty argument list to the documented defaults", () => {
    const c = resolveConfig({});
    expect(c.clusterName).toBe("kind");
    expect(c.networkName).toBe("kind");
    expect(c.workers).toBe(0);
    expect(c.nodeImage).toBeUndefined();
    expect(c.retainOnDestroy).toBe(true);
    expect(c.registry.spec.name).toBe("kind-registry");
    expect(c.registry.spec.image).toBe("registry:3");
    expect(c.caches.map((x) => x.spec.image)).toEqual(["registry:3"]);
    expect(c.registry.spec.ports).toEqual([
      { hostIp: "127.0.0.1", hostPort: 5001, containerPort: 5000 },
    ]);
    expect(c.registry.host).toBe("localhost:5001");
    expect(c.registry.hostFromClusterNetwork).toBe("kind-registry:5000");
    expect(c.registry.probeUrl).toBe("http://127.0.0.1:5001/v2/");
    expect(c.caches.map((x) => [x.upstreamHost, x.remoteUrl, x.spec.name, x.endpoint])).toEqual([
      [
        "docker.io",
        "https://registry-1.docker.io",
        "kind-cache-docker-io",
        "http://kind-cache-docker-io:5000",
      ],
    ]);
    expect(c.nodes).toEqual([{ name: "kind-control-plane", suffix: "control-plane" }]);
    expect(c.maxParallelImagePulls).toBe(5);
  });

  it("derives other upstreams' URLs and names from the host", () => {
    const c = resolveConfig({
      caches: [
        { upstreamHost: "ghcr.io" },
        { upstreamHost: "registry.example.com:5443", remoteUrl: "http://mirror.internal:5000/" },
      ],
    });
    expect(c.caches.map((x) => [x.remoteUrl, x.spec.name, x.spec.volume])).toEqual([
      ["https://ghcr.io", "kind-cache-ghcr-io", "kind-cache-ghcr-io-data"],
      [
        "http://mirror.internal:5000",
        "kind-cache-registry-example-com-5443",
        "kind-cache-registry-example-com-5443-data",
      ],
    ]);
  });

  it("runs the registry and every cache on registryImage, registry:2 included", () => {
    const c = resolveConfig({
      registryImage: "registry:2",
      caches: [{ upstreamHost: "docker.io" }, { upstreamHost: "ghcr.io", ttl: "72h" }],
    });
    expect(c.registry.spec.image).toBe("registry:2");
    expect(c.caches.map((x) => [x.spec.name, x.spec.image, x.spec.env])).toEqual([
      [
        "kind-cache-docker-io",
        "registry:2",
        {
          REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
          REGISTRY_STORAGE_DELETE_ENABLED: "true",
        },
      ],
      [
        "kind-cache-ghcr-io",
        "registry:2",
        {
          REGISTRY_PROXY_REMOTEURL: "https://ghcr.io",
          REGISTRY_PROXY_TTL: "72h",
          REGISTRY_STORAGE_DELETE_ENABLED: "true",
        },
      ],
    ]);
  });

  it("probes loopback when the registry is published on every interface", () => {
    expect(resolveConfig({ bindAddress: "0.0.0.0" }).registry.probeUrl).toBe(
      "http://127.0.0.1:5001/v2/",
    );
    expect(resolveConfig({ bindAddress: "::1" }).registry.probeUrl).toBe("http://[::1]:5001/v2/");
  });
});
