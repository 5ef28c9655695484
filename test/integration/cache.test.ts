/**
 * Integration test 3: a pull-through cache container started exactly as the component starts it
 * (resolveConfig's spec, registryContainerScript (fingerprint included), run by /bin/sh -c), in
 * front of a local upstream registry standing in for Docker Hub (`library/...` images, reached
 * over plain http), on the default registry:3 and on registry:2. A node stand-in with the
 * component's mirror hosts.toml pulls through the cache. With the upstream stopped, running the
 * cache's script again (what `pulumi up` does after `pulumi destroy` retained the container) keeps
 * the running cache without a restart, and a fresh node still pulls the image from it. Pushing to
 * the cache is refused. A cache started while its upstream does not answer makes the script warn
 * that it is restarting, without failing.
 *
 * The upgrade from registry:2 (what earlier versions of this package ran): the script replaces
 * the cache on registry:3, says so, and registry:3 serves what registry:2 had cached with the
 * upstream gone. caches[].ttl: registry:3 schedules what it caches to expire after it;
 * registry:2 ignores the variable and keeps its 168h.
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
  ensureRegistryContainer,
  ensureRegistryContainerOk,
  fetchImage,
  freePort,
  http,
  logsOf,
  MANIFEST_V2,
  mustContainerInfo,
  type RunResult,
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

// The ensure script's cache path on the default registry:3, and on registry:2.
for (const registryImage of [BED_IMAGES.registry, BED_IMAGES.registry2]) {
  describeDocker(`pull-through cache on ${registryImage}, in front of a local upstream`, () => {
    const suite = bedSuite(3);
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
    let controlPlane: string;
    let worker: string;
    let firstStart: RunResult;

    function cacheSpec(containerName = cacheName, hostPort = cachePort): ContainerSpec {
      return suite.cacheSpec(upstream, { containerName, hostPort }, { registryImage });
    }

    /** The node's hosts.toml files, written by the command the component runs on it. */
    async function writeHostsFiles(node: string): Promise<void> {
      await runScriptOk(hostsScript(node, planHostsFiles(config)));
    }

    /** A node stand-in with the component's hosts.toml pulls the image; returns the image. */
    async function pullOnNode(node: string): Promise<{ id: string; repoDigests: string[] }> {
      await startNodeStandin(res, node, network, CONTAINERD_CONFIG_PATCH, id);
      await writeHostsFiles(node);
      const pull = await criPull(node, podImage);
      expect(pull.stderr).toBe("");
      expect(pull.code).toBe(0);
      const image = JSON.parse(await docker(["exec", node, "cri-pull", "inspect", podImage])) as {
        id: string;
        repoTags: string[];
        repoDigests: string[];
      };
      expect(image.repoTags).toContain(fullRef);
      return image;
    }

    beforeAll(async () => {
      [upstreamPort, cachePort] = [suite.port(1), suite.port(2)];
      config = suite.config({
        workers: 1,
        registryImage,
        registryPort: suite.port(0),
        caches: [
          {
            upstreamHost: "docker.io",
            remoteUrl: `http://${upstream}:5000`,
            containerName: cacheName,
            hostPort: cachePort,
          },
        ],
      });
      [controlPlane = "", worker = ""] = config.nodes.map((n) => n.name);

      // The upstream: a plain registry on the same network (not the component's, so plain docker
      // run), holding the image under library/.
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
      expect((await docker(["port", cacheName, "5000/tcp"])).trim()).toBe(`127.0.0.1:${cachePort}`);
    });

    it("plans a docker.io mirror hosts.toml with the upstream as server and the cache as host", () => {
      const mirror = planHostsFiles(config).find((f) => f.hostDir === "docker.io");
      expect(mirror?.toml).toContain(`server = "http://${upstream}:5000"`);
      expect(mirror?.toml).toContain(`[host."http://${cacheName}:5000"]`);
    });

    it("a first pull through a node fetches every blob from the cache, none from the upstream", async () => {
      const [manifest = "", ...blobs] = await fetchImage(upstreamPort, `library/${repo}`);
      const image = await pullOnNode(controlPlane);
      expect(image.repoDigests).toEqual([`docker.io/library/${repo}@${manifest}`]);

      // containerd asked the cache for the manifest and each blob, and the upstream for nothing:
      // the cache fetched them from the upstream on the node's behalf.
      const fromNode = await containerdRequests(cacheName);
      expect(fromNode.some((l) => l.includes(`/v2/library/${repo}/manifests/1?ns=docker.io`))).toBe(
        true,
      );
      for (const blob of blobs) {
        expect(
          fromNode.some((l) => l.includes(`/v2/library/${repo}/blobs/${blob}?ns=docker.io`)),
          blob,
        ).toBe(true);
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

    it("with the upstream stopped, the script keeps the running cache and a fresh node pulls from it", async () => {
      await docker(["stop", upstream]);
      // \`pulumi up\` after \`pulumi destroy\` (which retained the container) runs the script again.
      const before = await mustContainerInfo(cacheName);
      const again = await ensureRegistryContainerOk(cacheSpec());
      expect(again.stderr).toContain(`using the existing cache container ${cacheName}`);
      expect(again.stderr).not.toContain("started the cache container");
      expect(again.stderr).not.toContain("warning");
      expect(before.running).toBe(true);
      expect(before.restartCount).toBe(0);

      const first = JSON.parse(
        await docker(["exec", controlPlane, "cri-pull", "inspect", podImage]),
      ) as { id: string; repoDigests: string[] };
      // Every blob from the cache alone: the same image the first node pulled.
      expect(await pullOnNode(worker)).toEqual(first);
      // Still the same container, never restarted.
      expect(await mustContainerInfo(cacheName)).toEqual(before);
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
      const port = await freePort();
      const name = res.container(`kdt-cache2-${id}`);
      const late = cacheSpec(name, port);
      res.volume(late.volume);
      const r = await ensureRegistryContainer(late);
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

describeDocker(
  "upgrade: a registry:2 cache from an earlier version, replaced on registry:3",
  () => {
    const suite = bedSuite(2);
    const { id, res, network } = suite;
    const upstream = `kdt-up-${id}`;
    const cacheName = `kdt-cache-${id}`;
    const repo = `library/kdt-upgrade-${id}`;
    let upstreamPort: number;
    let cachePort: number;

    /** The cache as the component plans it; registryImage left out means the default. */
    function specFor(registryImage?: string): ContainerSpec {
      const image = registryImage === undefined ? {} : { registryImage };
      return suite.cacheSpec(upstream, { containerName: cacheName, hostPort: cachePort }, image);
    }

    beforeAll(async () => {
      [upstreamPort, cachePort] = [suite.port(0), suite.port(1)];
      await startUpstream(res, upstream, network, upstreamPort, repo, id);
      res.container(cacheName);
      res.volume(`${cacheName}-data`);
    });

    it("replaces the container on the same volume, says so, and serves what registry:2 cached", async () => {
      const old = specFor(BED_IMAGES.registry2);
      expect(old.image).toBe("registry:2");
      await ensureRegistryContainerOk(old);
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);
      const digests = await fetchImage(cachePort, repo);
      expect(digests).toHaveLength(3);
      // registry:2 stores what it fetched after serving it: once it serves the image with the
      // upstream stopped, the image is on the volume.
      await docker(["stop", upstream]);
      expect(
        await waitFor("registry:2 to serve the image from its volume", 30_000, () =>
          fetchImage(cachePort, repo),
        ),
      ).toEqual(digests);
      // registry:3, like 2.8, exits at start while its upstream does not answer.
      await docker(["start", upstream]);
      await waitForHttpOk(`http://127.0.0.1:${upstreamPort}/v2/`);

      const before = await mustContainerInfo(cacheName);
      const now = specFor();
      expect(now.image).toBe("registry:3");
      expect(now.volume).toBe(old.volume);
      const r = await ensureRegistryContainerOk(now);
      expect(r.stderr).toContain(
        `pulumi-kind-dev: replacing the cache container ${cacheName}: image registry:2 -> registry:3; data stays on volume ${cacheName}-data. To keep registry:2, set registryImage: registry:2\n`,
      );
      expect(r.stderr).not.toContain("warning");
      const after = await mustContainerInfo(cacheName);
      expect(after.id).not.toBe(before.id);
      expect(after.image).toBe("registry:3");
      expect(after.volumes).toEqual([`${cacheName}-data`]);
      expect(after.labels[LABEL_SPEC]).toBe(specHash(now));
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);

      // Upstream gone: whatever registry:3 serves comes from the volume registry:2 filled.
      await docker(["stop", upstream]);
      expect(await fetchImage(cachePort, repo)).toEqual(digests);
      expect(await catalog(cachePort)).toEqual([repo]);
      expect((await mustContainerInfo(cacheName)).restartCount).toBe(0);

      // The next run keeps the registry:3 container.
      const again = await ensureRegistryContainerOk(now);
      expect(again.stderr).toContain(`using the existing cache container ${cacheName}`);
      expect((await mustContainerInfo(cacheName)).id).toBe(after.id);
    });
  },
);

describeDocker(
  "caches[].ttl: registry:3 expires cached content after it, registry:2 ignores it",
  () => {
    const suite = bedSuite(1);
    const { id, res, network } = suite;
    const upstream = `kdt-up-${id}`;
    const repo = `library/kdt-ttl-${id}`;
    const ttl = "5h30m";

    function specFor(
      registryImage: string,
      containerName: string,
      hostPort: number,
    ): ContainerSpec {
      return suite.cacheSpec(upstream, { containerName, hostPort, ttl }, { registryImage });
    }

    /** Starts a cache with the ttl on `registryImage`, pulls the image through it. */
    async function cacheAndPull(
      registryImage: string,
    ): Promise<{ name: string; digests: string[]; entries: Map<string, number> }> {
      const port = await freePort();
      const name = res.container(`kdt-ttl-${registryImage.replace(":", "")}-${id}`);
      const spec = specFor(registryImage, name, port);
      res.volume(spec.volume);
      expect(spec.env["REGISTRY_PROXY_TTL"]).toBe("5h30m");
      await ensureRegistryContainerOk(spec);
      await waitForHttpOk(`http://127.0.0.1:${port}/v2/`);
      const info = await mustContainerInfo(name);
      expect(info.image).toBe(registryImage);
      expect(info.env).toContain("REGISTRY_PROXY_TTL=5h30m");
      const digests = await fetchImage(port, repo);
      // The scheduler logs every manifest and blob it takes into the cache, with its time to live.
      const entries = await waitFor(
        "a scheduler entry for the manifest and each blob",
        30_000,
        async () => {
          const e = schedulerEntries(await logsOf(name));
          return digests.every((d) => e.has(`${repo}@${d}`)) ? e : undefined;
        },
      );
      return { name, digests, entries };
    }

    beforeAll(async () => {
      await startUpstream(res, upstream, network, suite.port(0), repo, id);
    });

    it("registry:3 schedules the manifest and every blob it caches to expire after 5h30m", async () => {
      const { name, digests, entries } = await cacheAndPull(BED_IMAGES.registry);
      // Only with a TTL in force does v3 start its expiry scheduler (ttl 0 turns it off).
      expect(await logsOf(name)).toContain("Starting cached object TTL expiration scheduler...");
      for (const digest of digests) {
        const seconds = entries.get(`${repo}@${digest}`) ?? 0;
        // 5h30m = 19800 s, less the moment between scheduling and logging.
        expect({ digest, seconds: Math.round(seconds) }).toEqual({ digest, seconds: 19_800 });
      }
      // The schedule the cache keeps on its volume (saved every 5 s): expiry = caching time + ttl.
      const dir = res.tempDir();
      const state = await waitFor(
        "scheduler-state.json on the cache's volume",
        30_000,
        async () => {
          await docker(["cp", `${name}:/var/lib/registry/scheduler-state.json`, dir]);
          const saved = JSON.parse(
            readFileSync(path.join(dir, "scheduler-state.json"), "utf8"),
          ) as Record<string, { ExpiryData: string }>;
          return digests.every((d) => saved[`${repo}@${d}`] !== undefined) ? saved : undefined;
        },
      );
      for (const digest of digests) {
        const expiry = Date.parse(state[`${repo}@${digest}`]?.ExpiryData ?? "");
        const hours = (expiry - Date.now()) / 3_600_000;
        expect(hours).toBeGreaterThan(5.4);
        expect(hours).toBeLessThanOrEqual(5.5);
      }
    });

    it("registry:2 ignores REGISTRY_PROXY_TTL and keeps its fixed 168h", async () => {
      const { name, digests, entries } = await cacheAndPull(BED_IMAGES.registry2);
      expect(await logsOf(name)).toContain(
        "Ignoring unrecognized environment variable REGISTRY_PROXY_TTL",
      );
      for (const digest of digests) {
        const seconds = entries.get(`${repo}@${digest}`) ?? 0;
        // 168h = 604800 s.
        expect({ digest, seconds: Math.round(seconds) }).toEqual({ digest, seconds: 604_800 });
      }
    });
  },
);
