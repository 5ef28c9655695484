import { planHostsFiles } from "../../components/render/hostsToml";
import * as pulumi from "@pulumi/pulumi";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KindDevEnvironmentArgs } from "../../components/args";
import { resolveConfig } from "../../components/config";
import { hostSlug } from "../../components/render/text";
import * as v from "../../components/validate";

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
    expect(planHostsFiles(c).map((f) => [f.hostDir, f.slug, f.toml])).toEqual([
      ["localhost:5001", "localhost-5001", '[host."http://kind-registry:5000"]\n'],
      ["kind-registry:5000", "kind-registry-5000", '[host."http://kind-registry:5000"]\n'],
      [
        "docker.io",
        "docker-io",
        'server = "https://registry-1.docker.io"\n\n[host."http://kind-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
      ],
    ]);
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

const E = "KindDevEnvironment: invalid";

describe("resolveConfig rejects bad input with a message naming the argument", () => {
  const cases: [string, KindDevEnvironmentArgs, string][] = [
    [
      "uppercase cluster name",
      { clusterName: "Dev" },
      `${E} clusterName "Dev": must be a DNS label of 1-49 characters: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
    [
      "cluster name too long for node names",
      { clusterName: "a".repeat(50) },
      `${E} clusterName "${"a".repeat(50)}": must be a DNS label of 1-49 characters`,
    ],
    [
      "shell in a cluster name",
      { clusterName: "dev;rm -rf /" },
      `${E} clusterName "dev;rm -rf /": must be a DNS label`,
    ],
    ["negative workers", { workers: -1 }, `${E} workers -1: must be a whole number from 0 to 100`],
    [
      "fractional workers",
      { workers: 1.5 },
      `${E} workers 1.5: must be a whole number from 0 to 100`,
    ],
    [
      "port zero",
      { registryPort: 0 },
      `${E} registryPort 0: must be a whole number from 1 to 65535`,
    ],
    [
      "port too large",
      { registryPort: 65536 },
      `${E} registryPort 65536: must be a whole number from 1 to 65535`,
    ],
    [
      "registry name with underscore",
      { registryName: "kind_registry" },
      `${E} registryName "kind_registry": must be a DNS label of 1-63 characters`,
    ],
    [
      "network name with a space",
      { networkName: "my net" },
      `${E} networkName "my net": must be a DNS label of 1-63 characters`,
    ],
    [
      "bind address that is a host name",
      { bindAddress: "localhost" },
      `${E} bindAddress "localhost": must be an IPv4 or IPv6 address`,
    ],
    [
      "node image with a command substitution",
      { nodeImage: "kindest/node:$(id)" },
      `${E} nodeImage "kindest/node:$(id)": must be an image reference such as kindest/node:v1.34.0 or registry:2`,
    ],
    [
      "registry image with uppercase",
      { registryImage: "Registry:2" },
      `${E} registryImage "Registry:2": must be an image reference`,
    ],
    [
      "upstream host with a scheme",
      { caches: [{ upstreamHost: "https://ghcr.io" }] },
      `${E} caches[0].upstreamHost "https://ghcr.io": must be a registry host name such as docker.io`,
    ],
    [
      "upstream host with a path",
      { caches: [{ upstreamHost: "ghcr.io/../etc" }] },
      `${E} caches[0].upstreamHost "ghcr.io/../etc": must be a registry host name`,
    ],
    [
      "upstream host with a bad port",
      { caches: [{ upstreamHost: "example.com:99999" }] },
      `${E} caches[0].upstreamHost "example.com:99999": has a port outside 1-65535`,
    ],
    [
      "remote URL with ftp scheme",
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "ftp://ghcr.io" }] },
      `${E} caches[0].remoteUrl "ftp://ghcr.io": must be an http:// or https:// URL with a host and optional port only`,
    ],
    [
      "remote URL with a path",
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://ghcr.io/v2/../x" }] },
      `${E} caches[0].remoteUrl "https://ghcr.io/v2/../x": must be an http:// or https:// URL`,
    ],
    [
      "remote URL with credentials",
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://u:p@ghcr.io" }] },
      `${E} caches[0].remoteUrl "https://u:p@ghcr.io": must be an http:// or https:// URL`,
    ],
    [
      "remote URL with a query",
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://ghcr.io?x=1" }] },
      `${E} caches[0].remoteUrl "https://ghcr.io?x=1": must be an http:// or https:// URL`,
    ],
    [
      "parallel pulls of zero",
      { maxParallelImagePulls: 0 },
      `${E} maxParallelImagePulls 0: must be a whole number from 1 to 50 (1 pulls one image at a time)`,
    ],
    [
      "parallel pulls that are not whole",
      { maxParallelImagePulls: 2.5 },
      `${E} maxParallelImagePulls 2.5: must be a whole number from 1 to 50`,
    ],
    [
      "a cache for the registry's in-cluster name",
      { caches: [{ upstreamHost: "kind-registry:5000" }] },
      `${E} caches[].upstreamHost "kind-registry:5000": is used twice; each cached upstream (and the push registry's own hosts, localhost:<registryPort> and <registryName>:5000) must be unique`,
    ],
    [
      "bad TTL",
      { caches: [{ upstreamHost: "docker.io", ttl: "7 days" }] },
      `${E} caches[0].ttl "7 days": must be a Go duration such as 168h, 72h or 30m`,
    ],
    [
      "cache port clashing with the registry",
      { caches: [{ upstreamHost: "docker.io", hostPort: 5001 }] },
      `${E} host port "5001/TCP": is used twice; each port published on the host (registryPort, caches[].hostPort, extraPortMappings[].hostPort) must be unique`,
    ],
    [
      "two caches on one port",
      {
        registryPort: 6000,
        caches: [
          { upstreamHost: "docker.io", hostPort: 5002 },
          { upstreamHost: "ghcr.io", hostPort: 5002 },
        ],
      },
      `${E} host port "5002/TCP": is used twice`,
    ],
    [
      "extra port mapping on the registry port",
      { extraPortMappings: [{ containerPort: 80, hostPort: 5001 }] },
      `${E} host port "5001/TCP": is used twice`,
    ],
    [
      "duplicate upstream",
      {
        caches: [{ upstreamHost: "docker.io" }, { upstreamHost: "docker.io", containerName: "x" }],
      },
      `${E} caches[].upstreamHost "docker.io": is used twice`,
    ],
    [
      "cache named like the registry",
      { caches: [{ upstreamHost: "docker.io", containerName: "kind-registry" }] },
      `${E} container name "kind-registry": is used twice; each registry and cache container must be unique`,
    ],
    [
      "bad mapping protocol",
      { extraPortMappings: [{ containerPort: 80, hostPort: 8080, protocol: "HTTP" }] },
      `${E} extraPortMappings[0].protocol "HTTP": must be "TCP", "UDP" or "SCTP"`,
    ],
    [
      "bad mapping address",
      { extraPortMappings: [{ containerPort: 80, hostPort: 8080, listenAddress: "0.0.0.0; id" }] },
      `${E} extraPortMappings[0].listenAddress "0.0.0.0; id": must be an IPv4 or IPv6 address`,
    ],
    [
      "retainOnDestroy as a string",
      { retainOnDestroy: "no" as unknown as boolean },
      `${E} retainOnDestroy "no": must be true or false`,
    ],
    [
      "registry name made only of hex digits",
      { registryName: "cafe" },
      `${E} registryName "cafe": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a container ID, so a command meant for this container could act on another one`,
    ],
    [
      "cache container name made only of hex digits",
      { caches: [{ upstreamHost: "docker.io", containerName: "c0ffee" }] },
      `${E} caches[0].containerName "c0ffee": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a container ID, so a command meant for this container could act on another one`,
    ],
    [
      "network name made only of hex digits",
      { networkName: "0123456789abcdef" },
      `${E} networkName "0123456789abcdef": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a network ID, so a command meant for this network could act on another one`,
    ],
    [
      "Docker's host network",
      { networkName: "host" },
      `${E} networkName "host": is one of Docker's predefined networks (bridge, default, host, ingress, nat, none), which Docker does not let anyone create or remove and on which containers cannot reach the registry by name; choose a network of your own, such as "kind"`,
    ],
    ...["bridge", "none", "default", "ingress", "nat"].map(
      (name): [string, KindDevEnvironmentArgs, string] => [
        `Docker's ${name} network`,
        { networkName: name },
        `${E} networkName "${name}": is one of Docker's predefined networks (bridge, default, host, ingress, nat, none)`,
      ],
    ),
  ];

  it.each(cases)("%s", (_label, args, message) => {
    expect(() => resolveConfig(args)).toThrow(message);
    expect(() => resolveConfig(args)).toThrow(v.KindDevArgumentError);
  });
});

// Characters that could change the meaning of a shell word, a TOML string or a YAML scalar.
const UNSAFE = /[\s"'`$\\;&|<>(){}*?!#~\[\]]/;

describe("validators only accept inert strings", () => {
  const anything = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.stringMatching(/^[a-z0-9.:\/@_-]{1,40}$/),
    fc.constantFrom("docker.io", "ghcr.io:443", "a-b.c", "kindest/node:v1.34.0", "https://x.io"),
  );
  const accepted = (fn: () => string): string | undefined => {
    try {
      return fn();
    } catch (e) {
      expect(e).toBeInstanceOf(v.KindDevArgumentError);
      return undefined;
    }
  };

  it("dnsLabel, registryHost, imageReference, upstreamUrl, goDuration, ipAddress", () => {
    fc.assert(
      fc.property(anything, (s) => {
        for (const ok of [
          accepted(() => v.dnsLabel("f", s)),
          accepted(() => v.registryHost("f", s)),
          accepted(() => v.imageReference("f", s)),
          accepted(() => v.upstreamUrl("f", s)),
          accepted(() => v.goDuration("f", s)),
          accepted(() => v.ipAddress("f", s)),
        ]) {
          if (ok !== undefined) {
            expect(ok).not.toMatch(UNSAFE);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("container and network names: a DNS label Docker cannot read as an ID prefix", () => {
    const names = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.stringMatching(/^[0-9a-f]{1,16}$/),
      fc.stringMatching(/^[0-9a-z-]{1,16}$/),
      fc.constantFrom(...v.DOCKER_PREDEFINED_NETWORKS, "kind", "cafe", "c0ffee", "cafe-1", "0"),
    );
    fc.assert(
      fc.property(names, (s) => {
        const label = accepted(() => v.dnsLabel("f", s));
        const hex = /^[0-9a-f]+$/.test(s);
        const container = accepted(() => v.dockerName("f", s, "container"));
        expect(container).toBe(label !== undefined && !hex ? s : undefined);
        const network = accepted(() => v.networkName(s));
        const predefined = v.DOCKER_PREDEFINED_NETWORKS.includes(s);
        expect(network).toBe(container !== undefined && !predefined ? s : undefined);
        if (container !== undefined) {
          // Some character no ID has: Docker's lookup by ID prefix can never match it.
          expect(container).toMatch(/[g-z-]/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("hostSlug yields a DNS-label fragment for every valid host", () => {
    fc.assert(
      fc.property(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 })), (domain, p) => {
        const host = p === null ? domain.toLowerCase() : `${domain.toLowerCase()}:${p}`;
        if (accepted(() => v.registryHost("f", host)) !== undefined) {
          expect(hostSlug(host)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        }
      }),
    );
  });
});

describe("KindDevArgumentError", () => {
  it("is a RunError to the engine, which then prints its message without a stack trace", () => {
    const e = new v.KindDevArgumentError("networkName", "host", "is not allowed");
    expect(pulumi.RunError.isInstance(e)).toBe(true);
    expect(e.message).toBe('KindDevEnvironment: invalid networkName "host": is not allowed');
  });
});
