/**
 * Integration test 3: a pull-through cache container started exactly as the component starts it
 * (resolveConfig's spec, registryContainerScript (fingerprint included), run by /bin/sh -c), in
 * front of a local upstream registry standing in for Docker Hub (`library/...` images, reached
 * over plain http), on the default registry:3 and on registry:2. A node stand-in with the
 * component's mirror hosts.toml pulls through the cache. Pushing to the cache is refused. A
 * cache started while its upstream does not answer makes the script warn that it is restarting,
 * without failing. caches[].ttl: registry:3 schedules what it caches to expire after it;
 * registry:2 ignores the variable and keeps its 168h. (A kept cache serving a new cluster with
 * its upstream stopped: test/e2e/e2e.test.ts step 7; the upgrade from registry:2:
 * test/integration/registry.test.ts.)
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, expect, it } from "vitest";
import type { ResolvedConfig } from "../../components/config";
import { CONTAINERD_CONFIG_PATCH } from "../../components/render/containerd";
import {
  type ContainerSpec,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  specHash,
} from "../../components/render/containerSpecs";
import { planHostsFiles } from "../../components/render/hostsToml";
import { hostsScript } from "../../components/scripts";
import {
  BED_IMAGES,
  bedSuite,
  catalog,
  criPull,
  describeDocker,
  docker,
  componentRegistryScript,
  ensureRegistryContainerOk,
  fetchImage,
  http,
  logsOf,
  MANIFEST_V2,
  mustContainerInfo,
  type RunResult,
  runScript,
  runScriptOk,
  startNodeStandin,
  startUpstream,
  waitFor,
  waitForHttpOk,
} from "./helpers";

/** The request lines of a registry's log that containerd (a node pulling) made. */
async function containerdRequests(container: string): Promise<string[]> {
  return (await logsOf(container)).split("\n").filter((l) => l.includes('"containerd/'));
}

/** Seconds in a Go duration as distribution prints it: `5h29m59.99s`, `167h59m59.9s`. */
function goDurationSeconds(text: string): number {
  const units: Record<string, number> = {
    h: 3600,
    m: 60,
    s: 1,
    ms: 1e-3,
    us: 1e-6,
    µs: 1e-6,
    ns: 1e-9,
  };
  let seconds = 0;
  for (const [, value, unit] of text.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) {
    seconds += Number(value) * (units[unit ?? ""] ?? NaN);
  }
  return seconds;
}

/** `Adding new scheduler entry for KEY with ttl=D` lines of a cache's log: KEY -> D in seconds. */
function schedulerEntries(logs: string): Map<string, number> {
  const entries = new Map<string, number>();
  for (const [, key, ttl] of logs.matchAll(
    /Adding new scheduler entry for (\S+) with ttl=(\S+?)"/g,
  )) {
    entries.set(key ?? "", goDurationSeconds(ttl ?? ""));
  }
  return entries;
}

const TTL = "5h30m";
/** What each image makes of caches[].ttl: what its log says, the time to live it schedules. */
const TTL_SEEN: Record<string, { what: string; log: string; seconds: number }> = {
  [BED_IMAGES.registry]: {
    what: "registry:3 schedules the manifest and every blob it caches to expire after it",
    // Only with a TTL in force does v3 start its expiry scheduler (ttl 0 turns it off).
    log: "Starting cached object TTL expiration scheduler...",
    seconds: 19_800,
  },
  [BED_IMAGES.registry2]: {
    what: "registry:2 ignores REGISTRY_PROXY_TTL and keeps its fixed 168h",
    log: "Ignoring unrecognized environment variable REGISTRY_PROXY_TTL",
    seconds: 604_800,
  },
};

// The ensure script's cache path on the default registry:3, and on registry:2.
for (const registryImage of [BED_IMAGES.registry, BED_IMAGES.registry2]) {
  describeDocker(`pull-through cache on ${registryImage}, in front of a local upstream`, () => {
    const suite = bedSuite(4);
    const { id, res, network } = suite;
    const upstream = `kdt-up-${id}`;
    const cacheName = `kdt-cache-${id}`;
    const repo = `kdt-testimg-${id}`;
    /** How a pod spec names the image: Docker Hub's `library/` namespace, implicit. */
    const podImage = `${repo}:1`;
    const fullRef = `docker.io/library/${repo}:1`;
    let config: ResolvedConfig;
    let upstreamPort: number;
    let cachePort: number;
    let firstStart: RunResult;
    /** The image's manifest digest, then its blobs'. */
    let digests: string[];

    function cacheConfig(containerName = cacheName, hostPort = cachePort): ResolvedConfig {
      const cache = { containerName, hostPort, ttl: TTL };
      return suite.cacheConfig(upstream, cache, { registryImage, registryPort: suite.port(0) });
    }
    const cacheSpec = (c: ResolvedConfig = config): ContainerSpec => c.caches[0]!.spec;

    beforeAll(async () => {
      [upstreamPort, cachePort] = [suite.port(1), suite.port(2)];
      config = cacheConfig();
      await startUpstream(res, upstream, network, upstreamPort, `library/${repo}`, id);
      // The cache, as the component starts it (no probe, no credentials).
      res.container(cacheName);
      res.volume(cacheSpec().volume);
      firstStart = await ensureRegistryContainerOk(cacheSpec());
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);
    });

    it("the ensure script starts the labelled cache on its volume, without a warning", async () => {
      expect(firstStart.stderr).toContain(
        `started the cache container ${cacheName}; data on volume ${cacheName}-data`,
      );
      expect(firstStart.stderr).not.toContain("warning");
      const spec = cacheSpec();
      const info = await mustContainerInfo(cacheName);
      expect(info.image).toBe(registryImage);
      expect(info.running).toBe(true);
      expect(info.restartCount).toBe(0);
      expect(info.volumes).toEqual([`${cacheName}-data`]);
      expect(info.labels[LABEL_MANAGED]).toBe("true");
      expect(info.labels[LABEL_ROLE]).toBe("cache");
      expect(info.labels[LABEL_UPSTREAM]).toBe("docker.io");
      expect(info.labels[LABEL_SPEC]).toBe(specHash(spec));
      expect(info.env).toContain(`REGISTRY_PROXY_REMOTEURL=http://${upstream}:5000`);
      expect(info.env).toContain(`REGISTRY_PROXY_TTL=${TTL}`);
      expect((await docker(["port", cacheName, "5000/tcp"])).trim()).toBe(`127.0.0.1:${cachePort}`);
    });

    it("plans a docker.io mirror hosts.toml with the upstream as server and the cache as host", () => {
      const mirror = planHostsFiles(config).find((f) => f.hostDir === "docker.io");
      expect(mirror?.toml).toContain(`server = "http://${upstream}:5000"`);
      expect(mirror?.toml).toContain(`[host."http://${cacheName}:5000"]`);
    });

    it("a first pull through a node fetches every blob from the cache, none from the upstream", async () => {
      digests = await fetchImage(upstreamPort, `library/${repo}`);
      const [manifest = "", ...blobs] = digests;
      const controlPlane = config.nodes[0]?.name ?? "";
      await startNodeStandin(res, controlPlane, network, CONTAINERD_CONFIG_PATCH, id);
      await runScriptOk(hostsScript(controlPlane, planHostsFiles(config)));
      const pull = await criPull(controlPlane, podImage);
      expect([pull.code, pull.stderr]).toEqual([0, ""]);
      const inspect = await docker(["exec", controlPlane, "cri-pull", "inspect", podImage]);
      const image = JSON.parse(inspect) as { repoTags: string[]; repoDigests: string[] };
      expect(image.repoTags).toContain(fullRef);
      expect(image.repoDigests).toEqual([`docker.io/library/${repo}@${manifest}`]);

      // containerd asked the cache for the manifest and each blob, and the upstream for nothing:
      // the cache fetched them from the upstream on the node's behalf.
      const fromNode = (await containerdRequests(cacheName)).join("\n");
      for (const object of ["manifests/1", ...blobs.map((blob) => `blobs/${blob}`)]) {
        expect(fromNode, object).toContain(`/v2/library/${repo}/${object}?ns=docker.io`);
      }
      expect(await containerdRequests(upstream)).toEqual([]);
      // The proxy stores what it fetched while serving it: the catalog may lag the pull a little.
      const listed = await waitFor(
        "the cache's catalog to list the repository",
        30_000,
        async () => {
          const repositories = await catalog(cachePort);
          return repositories.length > 0 ? repositories : undefined;
        },
      );
      expect(listed).toEqual([`library/${repo}`]);
    });

    it(`caches[].ttl ${TTL}: ${TTL_SEEN[registryImage]?.what}`, async () => {
      const seen = TTL_SEEN[registryImage]!;
      expect(await logsOf(cacheName)).toContain(seen.log);
      // The scheduler logs every manifest and blob it takes into the cache, with its time to live.
      const key = (digest: string) => `library/${repo}@${digest}`;
      const entries = await waitFor(
        "a scheduler entry for the manifest and each blob",
        30_000,
        async () => {
          const e = schedulerEntries(await logsOf(cacheName));
          return digests.every((d) => e.has(key(d))) ? e : undefined;
        },
      );
      for (const digest of digests) {
        // Logged a hair under the ttl: the moment between scheduling and logging.
        const seconds = Math.round(entries.get(key(digest)) ?? 0);
        expect({ digest, seconds }).toEqual({ digest, seconds: seen.seconds });
      }
      // registry:3 keeps the schedule on its volume (saved every 5 s): expiry = caching time + ttl.
      if (registryImage === BED_IMAGES.registry) {
        const dir = res.tempDir();
        const state = await waitFor(
          "scheduler-state.json on the cache's volume",
          30_000,
          async () => {
            await docker(["cp", `${cacheName}:/var/lib/registry/scheduler-state.json`, dir]);
            const saved = JSON.parse(
              readFileSync(path.join(dir, "scheduler-state.json"), "utf8"),
            ) as Record<string, { ExpiryData: string }>;
            return digests.every((d) => saved[key(d)] !== undefined) ? saved : undefined;
          },
        );
        for (const digest of digests) {
          const hours = (Date.parse(state[key(digest)]?.ExpiryData ?? "") - Date.now()) / 3_600_000;
          expect(hours).toBeGreaterThan(5.4);
          expect(hours).toBeLessThanOrEqual(5.5);
        }
      }
    });

    it("refuses pushes (405 UNSUPPORTED)", async () => {
      // The two writes a `docker push` starts with; the docker CLI itself would retry them for
      // about 50 s before giving up with "unsupported".
      const upload = await http(`http://127.0.0.1:${cachePort}/v2/library/${repo}/blobs/uploads/`, {
        method: "POST",
      });
      expect(upload.status).toBe(405);
      expect(upload.body).toContain("UNSUPPORTED");
      // A valid manifest (the cached one, its blobs present) under a new tag.
      const cached = await http(`http://127.0.0.1:${cachePort}/v2/library/${repo}/manifests/1`, {
        headers: { Accept: MANIFEST_V2 },
      });
      expect(cached.status).toBe(200);
      const manifest = await http(`http://127.0.0.1:${cachePort}/v2/library/${repo}/manifests/2`, {
        method: "PUT",
        headers: { "Content-Type": MANIFEST_V2 },
        body: cached.body,
      });
      expect(manifest.status).toBe(405);
      expect(manifest.body).toContain("UNSUPPORTED");
    });

    it("a cache started while its upstream does not answer: the script warns and succeeds", async () => {
      await docker(["stop", upstream]);
      const port = suite.port(3);
      const name = res.container(`kdt-cache2-${id}`);
      const late = cacheSpec(cacheConfig(name, port));
      res.volume(late.volume);
      const r = await runScript(await componentRegistryScript(late));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`started the cache container ${name}`);
      expect(r.stderr).toContain(
        `warning: cache ${name} is restarting: the registry exits at start while its upstream http://${upstream}:5000 does not answer. Until it does, nodes pull from docker.io directly`,
      );
      const info = await mustContainerInfo(name);
      expect(info.restartCount > 0 || !info.running || info.restarting).toBe(true);
      // distribution (2.8 and v3) checks its upstream at start and panics when it does not answer.
      expect(await logsOf(name)).toContain(`panic: Get "http://${upstream}:5000/v2/"`);

      // Once the upstream answers again, the restart policy brings the cache up by itself, and
      // the script keeps that container.
      await docker(["start", upstream]);
      await waitForHttpOk(`http://127.0.0.1:${port}/v2/`, 120_000);
      const up = await mustContainerInfo(name);
      expect(up.id).toBe(info.id);
      const again = await ensureRegistryContainerOk(late);
      expect(again.stderr).toContain(`using the existing cache container ${name}`);
      expect(await mustContainerInfo(name)).toEqual(up);
      expect(await fetchImage(port, `library/${repo}`)).toHaveLength(3);
    });
  });
}
