/**
 * components/validate.ts, through resolveConfig: every invalid argument is refused with a message
 * naming it, its value and what is allowed; what the validators accept is inert in a shell, TOML
 * or YAML.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KindDevEnvironmentArgs } from "../../components/args";
import { resolveConfig } from "../../components/config";
import { hostSlug } from "../../components/render/text";
import * as v from "../../components/validate";

const E = "KindDevEnvironment: invalid";

describe("resolveConfig rejects bad input with a message naming the argument", () => {
  const cases: Record<string, [KindDevEnvironmentArgs, string]> = {
    "uppercase cluster name": [
      { clusterName: "Dev" },
      `clusterName "Dev": must be a DNS label of 1-49 characters: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ],
    "cluster name too long for node names": [
      { clusterName: "a".repeat(50) },
      `clusterName "${"a".repeat(50)}": must be a DNS label of 1-49 characters`,
    ],
    "shell in a cluster name": [
      { clusterName: "dev;rm -rf /" },
      `clusterName "dev;rm -rf /": must be a DNS label`,
    ],
    "negative workers": [{ workers: -1 }, `workers -1: must be a whole number from 0 to 100`],
    "fractional workers": [{ workers: 1.5 }, `workers 1.5: must be a whole number from 0 to 100`],
    "port zero": [{ registryPort: 0 }, `registryPort 0: must be a whole number from 1 to 65535`],
    "port too large": [
      { registryPort: 65536 },
      `registryPort 65536: must be a whole number from 1 to 65535`,
    ],
    "registry name with underscore": [
      { registryName: "kind_registry" },
      `registryName "kind_registry": must be a DNS label of 1-63 characters`,
    ],
    "network name with a space": [
      { networkName: "my net" },
      `networkName "my net": must be a DNS label of 1-63 characters`,
    ],
    "bind address that is a host name": [
      { bindAddress: "localhost" },
      `bindAddress "localhost": must be an IPv4 or IPv6 address`,
    ],
    "node image with a command substitution": [
      { nodeImage: "kindest/node:$(id)" },
      `nodeImage "kindest/node:$(id)": must be an image reference such as kindest/node:v1.34.0 or registry:2`,
    ],
    "registry image with uppercase": [
      { registryImage: "Registry:2" },
      `registryImage "Registry:2": must be an image reference`,
    ],
    "upstream host with a scheme": [
      { caches: [{ upstreamHost: "https://ghcr.io" }] },
      `caches[0].upstreamHost "https://ghcr.io": must be a registry host name such as docker.io`,
    ],
    "upstream host with a path": [
      { caches: [{ upstreamHost: "ghcr.io/../etc" }] },
      `caches[0].upstreamHost "ghcr.io/../etc": must be a registry host name`,
    ],
    "upstream host with a bad port": [
      { caches: [{ upstreamHost: "example.com:99999" }] },
      `caches[0].upstreamHost "example.com:99999": has a port outside 1-65535`,
    ],
    "remote URL with ftp scheme": [
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "ftp://ghcr.io" }] },
      `caches[0].remoteUrl "ftp://ghcr.io": must be an http:// or https:// URL with a host and optional port only`,
    ],
    "remote URL with a path": [
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://ghcr.io/v2/../x" }] },
      `caches[0].remoteUrl "https://ghcr.io/v2/../x": must be an http:// or https:// URL`,
    ],
    "remote URL with credentials": [
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://u:p@ghcr.io" }] },
      `caches[0].remoteUrl "https://u:p@ghcr.io": must be an http:// or https:// URL`,
    ],
    "remote URL with a query": [
      { caches: [{ upstreamHost: "ghcr.io", remoteUrl: "https://ghcr.io?x=1" }] },
      `caches[0].remoteUrl "https://ghcr.io?x=1": must be an http:// or https:// URL`,
    ],
    "parallel pulls of zero": [
      { maxParallelImagePulls: 0 },
      `maxParallelImagePulls 0: must be a whole number from 1 to 50 (1 pulls one image at a time)`,
    ],
    "parallel pulls that are not whole": [
      { maxParallelImagePulls: 2.5 },
      `maxParallelImagePulls 2.5: must be a whole number from 1 to 50`,
    ],
    "a cache for the registry's in-cluster name": [
      { caches: [{ upstreamHost: "kind-registry:5000" }] },
      `caches[].upstreamHost "kind-registry:5000": is used twice; each cached upstream (and the push registry's own hosts, localhost:<registryPort> and <registryName>:5000) must be unique`,
    ],
    "bad TTL": [
      { caches: [{ upstreamHost: "docker.io", ttl: "7 days" }] },
      `caches[0].ttl "7 days": must be a Go duration such as 168h, 72h or 30m`,
    ],
    "cache port clashing with the registry": [
      { caches: [{ upstreamHost: "docker.io", hostPort: 5001 }] },
      `host port "5001/TCP": is used twice; each port published on the host (registryPort, caches[].hostPort, extraPortMappings[].hostPort) must be unique`,
    ],
    "two caches on one port": [
      {
        registryPort: 6000,
        caches: [
          { upstreamHost: "docker.io", hostPort: 5002 },
          { upstreamHost: "ghcr.io", hostPort: 5002 },
        ],
      },
      `host port "5002/TCP": is used twice`,
    ],
    "extra port mapping on the registry port": [
      { extraPortMappings: [{ containerPort: 80, hostPort: 5001 }] },
      `host port "5001/TCP": is used twice`,
    ],
    "duplicate upstream": [
      {
        caches: [{ upstreamHost: "docker.io" }, { upstreamHost: "docker.io", containerName: "x" }],
      },
      `caches[].upstreamHost "docker.io": is used twice`,
    ],
    "cache named like the registry": [
      { caches: [{ upstreamHost: "docker.io", containerName: "kind-registry" }] },
      `container name "kind-registry": is used twice; each registry and cache container must be unique`,
    ],
    "bad mapping protocol": [
      { extraPortMappings: [{ containerPort: 80, hostPort: 8080, protocol: "HTTP" }] },
      `extraPortMappings[0].protocol "HTTP": must be "TCP", "UDP" or "SCTP"`,
    ],
    "bad mapping address": [
      { extraPortMappings: [{ containerPort: 80, hostPort: 8080, listenAddress: "0.0.0.0; id" }] },
      `extraPortMappings[0].listenAddress "0.0.0.0; id": must be an IPv4 or IPv6 address`,
    ],
    "retainOnDestroy as a string": [
      { retainOnDestroy: "no" as unknown as boolean },
      `retainOnDestroy "no": must be true or false`,
    ],
    "registry name made only of hex digits": [
      { registryName: "cafe" },
      `registryName "cafe": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a container ID, so a command meant for this container could act on another one`,
    ],
    "cache container name made only of hex digits": [
      { caches: [{ upstreamHost: "docker.io", containerName: "c0ffee" }] },
      `caches[0].containerName "c0ffee": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a container ID, so a command meant for this container could act on another one`,
    ],
    "network name made only of hex digits": [
      { networkName: "0123456789abcdef" },
      `networkName "0123456789abcdef": must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a network ID, so a command meant for this network could act on another one`,
    ],
    "Docker's host network": [
      { networkName: "host" },
      `networkName "host": is one of Docker's predefined networks (bridge, default, host, ingress, nat, none), which Docker does not let anyone create or remove and on which containers cannot reach the registry by name; choose a network of your own, such as "kind"`,
    ],
    ...Object.fromEntries(
      ["bridge", "none", "default", "ingress", "nat"].map((name) => [
        `Docker's ${name} network`,
        [
          { networkName: name },
          `networkName "${name}": is one of Docker's predefined networks (bridge, default, host, ingress, nat, none)`,
        ],
      ]),
    ),
  };

  it.each(Object.entries(cases))("%s", (_label, [args, message]) => {
    expect(() => resolveConfig(args)).toThrow(`${E} ${message}`);
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
