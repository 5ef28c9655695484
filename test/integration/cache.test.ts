/**
 * Integration test 3: a pull-through cache container started exactly as the component starts it
 * (resolveConfig's spec, containerCommand with the spec's fingerprint, run by /bin/sh -c), in
 * front of a local upstream registry standing in for Docker Hub (`library/...` images, reached
 * over plain http). A node stand-in with the component's mirror hosts.toml pulls through the
 * cache. With the upstream stopped, running the cache's script again (what `pulumi up` does after
 * `pulumi destroy` retained the container) keeps the running cache without a restart, and a fresh
 * node still pulls the image from it. Pushing to the cache is refused. A cache started while its
 * upstream does not answer makes the script warn that it is restarting, without failing.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import { CERTS_D, CONTAINERD_CONFIG_PATCH } from "../../components/render/containerd";
import {
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  specHash,
} from "../../components/render/containers";
import { hostsTomlCommand, networkCommand } from "../../components/render/scripts";
import {
  BED_IMAGES,
  criPull,
  describeDocker,
  docker,
  dockerResult,
  ensureRegistryContainer,
  ensureRegistryContainerOk,
  freePorts,
  http,
  mustContainerInfo,
  prepareBed,
  Resources,
  type RunResult,
  runId,
  runShellCommandOk,
  startNodeStandin,
  TEST_LABEL,
  waitFor,
  waitForHttpOk,
} from "./helpers";

type Config = ReturnType<typeof resolveConfig>;

describeDocker(
  "pull-through cache (the component's ensure script) in front of a local upstream",
  () => {
    const id = runId();
    const res = new Resources();
    const network = `kdt-net-${id}`;
    const upstream = `kdt-up-${id}`;
    const cacheName = `kdt-cache-${id}`;
    const repo = `kdt-testimg-${id}`;
    /** How a pod spec names the image: Docker Hub's `library/` namespace, implicit. */
    const podImage = `${repo}:1`;
    const fullRef = `docker.io/library/${repo}:1`;
    let config: Config;
    let cachePort: number;
    let registryPort: number;
    let controlPlane: string;
    let worker: string;
    let firstStart: RunResult;

    function cacheConfig(containerName: string, hostPort: number): Config {
      return resolveConfig({
        clusterName: `kdt-${id}`,
        workers: 1,
        networkName: network,
        registryName: `kdt-reg-${id}`,
        registryPort,
        caches: [
          {
            upstreamHost: "docker.io",
            remoteUrl: `http://${upstream}:5000`,
            containerName,
            hostPort,
          },
        ],
      });
    }

    function cacheSpec(c: Config = config): NonNullable<Config["caches"][0]>["spec"] {
      const cache = c.caches[0];
      if (cache === undefined) {
        throw new Error("no cache planned");
      }
      return cache.spec;
    }

    async function writeHostsFiles(node: string): Promise<void> {
      for (const file of config.hostsFiles) {
        await runShellCommandOk(hostsTomlCommand(node, file.hostDir, file.toml));
      }
    }

    async function logsOf(container: string): Promise<string> {
      const r = await dockerResult(["logs", container]);
      return r.stdout + r.stderr;
    }

    beforeAll(async () => {
      await prepareBed();
      const [p1, p2, p3] = await freePorts(3);
      if (p1 === undefined || p2 === undefined || p3 === undefined) {
        throw new Error("no free ports");
      }
      registryPort = p1;
      const upstreamPort = p2;
      cachePort = p3;
      config = cacheConfig(cacheName, cachePort);
      const [cp, w] = config.nodes;
      if (cp === undefined || w === undefined) {
        throw new Error("expected a control plane and a worker");
      }
      controlPlane = cp.name;
      worker = w.name;
      res.network(network);
      await runShellCommandOk(networkCommand(network, true));

      // The upstream: a plain registry on the same network (not the component's, so plain docker
      // run), holding the image under library/.
      res.container(upstream);
      await docker([
        "run",
        "-d",
        "--name",
        upstream,
        "--network",
        network,
        "--publish",
        `127.0.0.1:${upstreamPort}:5000`,
        "--label",
        `${TEST_LABEL}=${id}`,
        BED_IMAGES.registry,
      ]);
      await waitForHttpOk(`http://127.0.0.1:${upstreamPort}/v2/`);
      const pushed = res.image(`localhost:${upstreamPort}/library/${repo}:1`);
      await docker(["tag", BED_IMAGES.testImage, pushed]);
      await docker(["push", pushed]);

      // The cache, as the component starts it (no probe, no credentials).
      res.container(cacheName);
      res.volume(cacheSpec().volume);
      firstStart = await ensureRegistryContainerOk(cacheSpec());
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);
    });

    afterAll(async () => {
      await res.cleanup();
    });

    it("the ensure script starts the labelled cache on its volume, without a warning", async () => {
      expect(firstStart.stderr).toContain(
        `started the cache container ${cacheName}; data on volume ${cacheName}-data`,
      );
      expect(firstStart.stderr).not.toContain("warning");
      const spec = cacheSpec();
      const info = await mustContainerInfo(cacheName);
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
      const mirror = config.hostsFiles.find((f) => f.hostDir === "docker.io");
      expect(mirror?.toml).toContain(`server = "http://${upstream}:5000"`);
      expect(mirror?.toml).toContain(`[host."http://${cacheName}:5000"]`);
    });

    it("a first pull through a node goes through the cache", async () => {
      await startNodeStandin(res, controlPlane, network, CONTAINERD_CONFIG_PATCH, id);
      await writeHostsFiles(controlPlane);
      expect(
        await docker(["exec", controlPlane, "cat", `${CERTS_D}/docker.io/hosts.toml`]),
      ).toContain("server =");

      const pull = await criPull(controlPlane, podImage);
      expect(pull.stderr).toBe("");
      expect(pull.code).toBe(0);

      // The cache now holds the repository, fetched from the upstream on the node's behalf (the
      // proxy stores what it fetched while serving it: the catalog may lag the pull a little).
      const repositories = await waitFor("the cache's catalog to list the repository", async () => {
        const catalog = await http(`http://127.0.0.1:${cachePort}/v2/_catalog`);
        const body = JSON.parse(catalog.body) as { repositories?: string[] };
        return body.repositories?.length ? body.repositories : undefined;
      });
      expect(repositories).toEqual([`library/${repo}`]);
      const fromNode = (await logsOf(cacheName))
        .split("\n")
        .filter((l) => l.includes('http.request.useragent="containerd/'));
      expect(fromNode.some((l) => l.includes(`/v2/library/${repo}/manifests/1?ns=docker.io`))).toBe(
        true,
      );
    });

    it("with the upstream stopped, the script keeps the running cache and a fresh node pulls from it", async () => {
      await docker(["stop", upstream]);
      await waitFor("the upstream to stop", async () =>
        (await docker(["inspect", "--format", "{{.State.Running}}", upstream])).trim() === "false"
          ? true
          : undefined,
      );

      // `pulumi up` after `pulumi destroy` (which retained the container) runs the script again.
      const before = await mustContainerInfo(cacheName);
      const again = await ensureRegistryContainerOk(cacheSpec());
      expect(again.stderr).toContain(`using the existing cache container ${cacheName}`);
      expect(again.stderr).not.toContain("started the cache container");
      expect(again.stderr).not.toContain("warning");
      const after = await mustContainerInfo(cacheName);
      expect(after).toEqual(before);
      expect(after.running).toBe(true);
      expect(after.restartCount).toBe(0);

      await startNodeStandin(res, worker, network, CONTAINERD_CONFIG_PATCH, id);
      await writeHostsFiles(worker);
      const pull = await criPull(worker, podImage);
      expect(pull.stderr).toBe("");
      expect(pull.code).toBe(0);
      const inspect = JSON.parse(
        await docker(["exec", worker, "cri-pull", "inspect", podImage]),
      ) as {
        repoTags: string[];
      };
      expect(inspect.repoTags).toContain(fullRef);
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
      const mediaType = "application/vnd.docker.distribution.manifest.v2+json";
      const cached = await http(`http://127.0.0.1:${cachePort}/v2/library/${repo}/manifests/1`, {
        headers: { Accept: mediaType },
      });
      expect(cached.status).toBe(200);
      const manifest = await http(`http://127.0.0.1:${cachePort}/v2/library/${repo}/manifests/2`, {
        method: "PUT",
        headers: { "Content-Type": mediaType },
        body: cached.body,
      });
      expect(manifest.status).toBe(405);
      expect(manifest.body).toContain("UNSUPPORTED");
    });

    it("a cache started while its upstream does not answer: the script warns and succeeds", async () => {
      const [port] = await freePorts(1);
      if (port === undefined) {
        throw new Error("no free port");
      }
      const name = res.container(`kdt-cache2-${id}`);
      const late = cacheConfig(name, port);
      res.volume(cacheSpec(late).volume);
      const r = await ensureRegistryContainer(cacheSpec(late));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`started the cache container ${name}`);
      expect(r.stderr).toContain(
        `warning: cache ${name} is restarting: the registry exits at start while its upstream http://${upstream}:5000 does not answer. Until it does, nodes pull from docker.io directly`,
      );
      const info = await mustContainerInfo(name);
      expect(info.restartCount > 0 || !info.running || info.restarting).toBe(true);
      // distribution 2.8 checks its upstream at start and panics when it does not answer.
      expect(await logsOf(name)).toContain(`panic: Get "http://${upstream}:5000/v2/"`);

      // Once the upstream answers again, the restart policy brings the cache up by itself, and
      // the script keeps that container.
      await docker(["start", upstream]);
      await waitForHttpOk(`http://127.0.0.1:${port}/v2/`, 120_000);
      const up = await mustContainerInfo(name);
      expect(up.id).toBe(info.id);
      const again = await ensureRegistryContainerOk(cacheSpec(late));
      expect(again.stderr).toContain(`using the existing cache container ${name}`);
      expect(await mustContainerInfo(name)).toEqual(up);
      const manifest = await http(`http://127.0.0.1:${port}/v2/library/${repo}/manifests/1`, {
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(manifest.status).toBe(200);
    });
  },
);
