/**
 * Integration test 1: the push registry container started exactly as the component starts it
 * (resolveConfig's spec, the network command, registryContainerScript (fingerprint included), run
 * by /bin/sh -c like @pulumi/command), on the default registry:3 and on registry:2, accepts
 * pushes on localhost:<port>; running the script again keeps the container; a container removed
 * by hand comes back on the same volume with its images; a changed configuration replaces the
 * container and keeps the data; the registry listens on the loopback address only; the delete
 * script removes container and volume. (A container of that name that the package did not
 * create: test/integration/failures.test.ts.) The upgrade: a registry and a cache on registry:2
 * (as earlier versions of this package made them) are replaced on registry:3 with a message
 * saying so, and registry:3 serves what registry:2 stored and cached.
 */
import { beforeAll, expect, it } from "vitest";
import type { ResolvedConfig as Config } from "../../components/config";
import { containerState } from "../../components/lookup";
import {
  type ContainerSpec,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_SPEC,
  REGISTRY_DATA_PATH,
  specHash,
} from "../../components/render/containerSpecs";
import {
  BED_IMAGES,
  bedSuite,
  catalog,
  containerInfo,
  describeDocker,
  docker,
  dockerResult,
  ensureRegistryContainerOk,
  fetchImage,
  http,
  localNonLoopbackIPv4,
  MANIFEST_V2,
  mustContainerInfo,
  pushTestImage,
  type RegistryCommandOptions,
  componentRegistryScript,
  runScript,
  runScriptOk,
  startUpstream,
  tcpConnect,
  volumeExists,
  waitFor,
  waitForHttpOk,
} from "./helpers";

async function imageId(ref: string): Promise<string> {
  return (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
}

/** The ensure script's registry path, run on the default registry:3 and on registry:2. */
const registrySuite = (registryImage: string) => (): void => {
  const suite = bedSuite(2);
  const { id, res, network } = suite;
  const name = `kdt-reg-${id}`;
  /** The configuration in force; a test below changes the port. */
  let config: Config;
  let port: number;
  let otherPort: number;
  let image: string;

  function configFor(registryPort: number, registryName = name): Config {
    return suite.config({ registryName, registryImage, registryPort });
  }

  function ensure(c: Config = config, secretEnv?: Record<string, string>) {
    return ensureRegistryContainerOk(c.registry.spec, { probeUrl: c.registry.probeUrl, secretEnv });
  }

  /** The component's command for the registry in force, with `options`. */
  function script(options: RegistryCommandOptions = {}) {
    return componentRegistryScript(config.registry.spec, {
      probeUrl: config.registry.probeUrl,
      ...options,
    });
  }

  /** The pushed image is listed, and pulls again with the same image ID. */
  async function expectImageServed(registryPort: number, ref: string): Promise<void> {
    expect(await catalog(registryPort)).toEqual(["kdt/testimg"]);
    await dockerResult(["image", "rm", ref]);
    await docker(["pull", ref]);
    expect(await imageId(ref)).toBe(await imageId(BED_IMAGES.testImage));
  }

  beforeAll(async () => {
    [port, otherPort] = [suite.port(0), suite.port(1)];
    res.container(name);
    config = configFor(port);
    res.volume(config.registry.spec.volume);
  });

  it("the ensure script creates the volume and starts the labelled container, ready to serve", async () => {
    expect(await containerState(name, config.registry.spec.volume)).toBe("absent");
    const r = await ensure();
    expect(r.stderr).toContain(
      `started the registry container ${name}; data on volume ${name}-data`,
    );
    expect(r.stderr).toContain(`registry ${name} answers at http://127.0.0.1:${port}/v2/`);

    const info = await mustContainerInfo(name);
    expect(info.running).toBe(true);
    expect(info.image).toBe(registryImage);
    expect(info.volumes).toEqual([`${name}-data`]);
    expect(info.labels[LABEL_MANAGED]).toBe("true");
    expect(info.labels[LABEL_ROLE]).toBe("registry");
    expect(info.labels[LABEL_SPEC]).toBe(specHash(config.registry.spec));
    expect(info.env).toContain("REGISTRY_STORAGE_DELETE_ENABLED=true");
    const mount = await docker([
      "inspect",
      "--format",
      `{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}`,
      name,
    ]);
    expect(mount.trim()).toBe(`${name}-data:${REGISTRY_DATA_PATH}`);
    expect(
      (await docker(["volume", "inspect", "--format", "{{json .Labels}}", `${name}-data`])).trim(),
    ).toBe(JSON.stringify({ [LABEL_MANAGED]: "true" }));
    expect(await containerState(name, config.registry.spec.volume)).toBe("present");
  });

  it("publishes the registry on 127.0.0.1:<registryPort> only", async () => {
    expect(config.registry.host).toBe(`localhost:${port}`);
    const bindings = (await docker(["port", name, "5000/tcp"])).trim().split("\n");
    expect(bindings).toEqual([`127.0.0.1:${port}`]);
  });

  it("accepts docker push to localhost:<port>", async () => {
    image = res.image(`${config.registry.host}/kdt/testimg:${id}`);
    await pushTestImage(image);
    await expectImageServed(port, image);
  });

  it("running the script again keeps the container as it is (no restart)", async () => {
    const before = await mustContainerInfo(name);
    const r = await ensure();
    expect(r.stderr).toContain(`using the existing registry container ${name}`);
    expect(r.stderr).not.toContain("started the registry container");
    const after = await mustContainerInfo(name);
    expect({ id: after.id, startedAt: after.startedAt, running: after.running }).toEqual({
      id: before.id,
      startedAt: before.startedAt,
      running: true,
    });
  });

  it("a stopped container is started again, not replaced", async () => {
    const before = await mustContainerInfo(name);
    await docker(["stop", name]);
    const r = await ensure();
    expect(r.stderr).toContain(`started the existing registry container ${name}`);
    const after = await mustContainerInfo(name);
    expect(after.id).toBe(before.id);
    expect(after.running).toBe(true);
    await expectImageServed(port, image);
  });

  it("a container removed by hand comes back on the same volume, images kept", async () => {
    const before = await mustContainerInfo(name);
    await docker(["rm", "-f", name]);
    // What the program's lookup sees, and passes to the command as REPAIR to re-run it.
    expect(await containerState(name, config.registry.spec.volume)).toBe("missing");
    const cmd = await script();
    expect(cmd.environment["REPAIR"]).toMatch(/^recreate@/);
    const r = await runScriptOk(cmd);
    expect(r.stderr).toContain(`started the registry container ${name}`);
    // The next run renders the same environment: no update after the repair.
    expect((await script()).environment).toEqual(cmd.environment);

    const after = await mustContainerInfo(name);
    expect(after.id).not.toBe(before.id);
    expect(after.volumes).toEqual([`${name}-data`]);
    await expectImageServed(port, image);
  });

  it("a changed configuration replaces the container on the same volume, data kept", async () => {
    // Another published port: the component's spec (and so its fingerprint) changes.
    const before = await mustContainerInfo(name);
    const moved = configFor(otherPort);
    expect(moved.registry.spec.volume).toBe(config.registry.spec.volume);
    expect(specHash(moved.registry.spec)).not.toBe(specHash(config.registry.spec));
    const r = await ensure(moved);
    expect(r.stderr).toContain(
      `replacing the registry container ${name}, whose configuration changed; data stays on volume ${name}-data`,
    );
    expect(r.stderr).toContain(`registry ${name} answers at http://127.0.0.1:${otherPort}/v2/`);
    const after = await mustContainerInfo(name);
    expect(after.id).not.toBe(before.id);
    expect(after.labels[LABEL_SPEC]).toBe(specHash(moved.registry.spec));
    expect((await docker(["port", name, "5000/tcp"])).trim()).toBe(`127.0.0.1:${otherPort}`);
    expect(await tcpConnect("127.0.0.1", port)).toBe("refused");
    config = moved;
    const movedImage = res.image(`localhost:${otherPort}/kdt/testimg:${id}`);
    await expectImageServed(otherPort, movedImage);
  });

  it("an extra (secret) variable reaches the container through the environment, unexpanded", async () => {
    // The path the component uses for cache credentials: the value travels in the script's
    // environment and `docker run --env NAME`. The fingerprint holds its name only; a changed
    // value is found in the container's own environment.
    const value = `s3cr3t with 'quotes' "double" $HOME \`id\``;
    const secretEnv = { REGISTRY_HTTP_SECRET: value };
    const before = await mustContainerInfo(name);
    const r = await ensure(config, secretEnv);
    expect(r.stderr).toContain(`replacing the registry container ${name}`);
    expect(r.stdout + r.stderr).not.toContain("s3cr3t");
    const after = await mustContainerInfo(name);
    expect(after.id).not.toBe(before.id);
    expect(after.labels[LABEL_SPEC]).toBe(specHash(config.registry.spec, ["REGISTRY_HTTP_SECRET"]));
    expect(JSON.stringify(after.labels)).not.toContain("s3cr3t");
    expect(after.env).toContain(`REGISTRY_HTTP_SECRET=${value}`);
    await expectImageServed(otherPort, `localhost:${otherPort}/kdt/testimg:${id}`);

    // Same secret again: kept. Another value: replaced, the label unchanged. Without it:
    // replaced again, the variable gone.
    const again = await ensure(config, secretEnv);
    expect(again.stderr).toContain(`using the existing registry container ${name}`);
    expect((await mustContainerInfo(name)).id).toBe(after.id);
    const changed = await ensure(config, { REGISTRY_HTTP_SECRET: `${value}2` });
    expect(changed.stderr).toContain(
      `replacing the registry container ${name}: the value of REGISTRY_HTTP_SECRET changed; data stays on volume ${name}-data`,
    );
    expect(changed.stdout + changed.stderr).not.toContain("s3cr3t");
    const rotated = await mustContainerInfo(name);
    expect(rotated.id).not.toBe(after.id);
    expect(rotated.labels[LABEL_SPEC]).toBe(after.labels[LABEL_SPEC]);
    expect(rotated.env).toContain(`REGISTRY_HTTP_SECRET=${value}2`);
    const plain = await ensure(config);
    expect(plain.stderr).toContain(`replacing the registry container ${name}`);
    const last = await mustContainerInfo(name);
    expect(last.id).not.toBe(rotated.id);
    expect(last.env.some((e) => e.startsWith("REGISTRY_HTTP_SECRET="))).toBe(false);
    expect(last.labels[LABEL_SPEC]).toBe(specHash(config.registry.spec));
  });

  it("is not reachable on the machine's non-loopback addresses", async () => {
    const addresses = localNonLoopbackIPv4();
    expect(addresses.length).toBeGreaterThan(0);
    // Loopback answers: the comparison below is meaningful.
    expect(await tcpConnect("127.0.0.1", otherPort)).toBe("connected");
    for (const address of addresses) {
      expect({ address, result: await tcpConnect(address, otherPort) }).toEqual({
        address,
        result: "refused",
      });
    }
  });

  it("with removeOnDelete, a registry another kind cluster still pulls through is kept", async () => {
    const cmd = await script({ removeOnDelete: true });
    // A node of another cluster on the same network, whose containerd pulls through it.
    const labels = { "io.x-k8s.kind.cluster": `kdt-other-${id}` };
    const node = `kdt-other-${id}-control-plane`;
    await res.run(node, id, { network, labels }, BED_IMAGES.debian, "sleep", "infinity");
    await docker([
      "exec",
      node,
      "sh",
      "-c",
      `mkdir -p /etc/containerd/certs.d/x && printf '[host."http://${name}:5000"]\\n' > /etc/containerd/certs.d/x/hosts.toml`,
    ]);
    const kept = await runScriptOk(cmd, "delete");
    expect(kept.stderr).toContain(
      `kept ${name} and its volume ${name}-data although retainOnDestroy is false: kind cluster(s) kdt-other-${id} still pull through it.`,
    );
    expect((await mustContainerInfo(name)).running).toBe(true);
    expect(await volumeExists(`${name}-data`)).toBe(true);

    // A stopped node whose files cannot be read counts as a user too.
    await docker(["stop", "-t", "0", node]);
    expect((await runScriptOk(cmd, "delete")).stderr).toContain(`kind cluster(s) kdt-other-${id}`);
    expect((await mustContainerInfo(name)).running).toBe(true);

    // The stack's own cluster is deleted alongside: its nodes do not keep it.
    await docker(["start", node]);
    const own = await script({ removeOnDelete: true, ownCluster: `kdt-other-${id}` });
    expect((await runScriptOk(own, "delete")).stderr).toContain(
      `removed ${name} and its volume ${name}-data`,
    );
    expect(await containerInfo(name)).toBeUndefined();
    await ensure();

    // A running node that names other registries only does not keep it (the next test removes).
    await docker([
      "exec",
      node,
      "sh",
      "-c",
      `printf '[host."http://${name}-other:5000"]\\n' > /etc/containerd/certs.d/x/hosts.toml`,
    ]);
  });

  it("with removeOnDelete the delete script removes container and volume; retained has none", async () => {
    expect((await script()).delete).toBeUndefined();
    const cmd = await script({ removeOnDelete: true });
    const r = await runScriptOk(cmd, "delete");
    expect(r.stderr).toContain(`removed ${name} and its volume ${name}-data`);
    expect(await containerInfo(name)).toBeUndefined();
    expect(await volumeExists(`${name}-data`)).toBe(false);
    expect(await containerState(name, config.registry.spec.volume)).toBe("absent");

    // Deleting what is already gone succeeds.
    const again = await runScript(cmd, "delete");
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${name} and its volume ${name}-data were already gone`);
  });
};

describeDocker(
  `push registry container on ${BED_IMAGES.registry} (the component's ensure script)`,
  registrySuite(BED_IMAGES.registry),
);
describeDocker(
  `push registry container on ${BED_IMAGES.registry2} (the component's ensure script)`,
  registrySuite(BED_IMAGES.registry2),
);

describeDocker(
  "upgrade: a registry and a cache on registry:2 (earlier versions), now registry:3",
  () => {
    const suite = bedSuite(3);
    const { id, res, network } = suite;
    const upstream = `kdt-up-${id}`;
    const repo = `library/kdt-upgrade-${id}`;
    const roles = ["registry", "cache"] as const;
    let port: number;
    let cachePort: number;

    /** The registry and the cache as the component plans them; no registryImage: the default. */
    function specsFor(registryImage?: string): Record<(typeof roles)[number], ContainerSpec> {
      const config = suite.cacheConfig(
        upstream,
        { containerName: `kdt-cache-${id}`, hostPort: cachePort },
        { registryName: `kdt-upgrade-${id}`, registryPort: port, registryImage },
      );
      return { registry: config.registry.spec, cache: config.caches[0]!.spec };
    }
    /** Runs both ensure scripts; what each said. */
    async function ensure(specs: ReturnType<typeof specsFor>): Promise<Record<string, string>> {
      const probeUrl = `http://127.0.0.1:${port}/v2/`;
      const registry = await ensureRegistryContainerOk(specs.registry, { probeUrl });
      const cache = await ensureRegistryContainerOk(specs.cache);
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);
      return { registry: registry.stderr, cache: cache.stderr };
    }

    beforeAll(async () => {
      [port, cachePort] = [suite.port(0), suite.port(1)];
      await startUpstream(res, upstream, network, suite.port(2), repo, id);
      for (const spec of Object.values(specsFor())) {
        res.container(spec.name);
        res.volume(spec.volume);
      }
    });

    it("replaces both on their volumes, says so, and serves what registry:2 stored and cached", async () => {
      const old = specsFor(BED_IMAGES.registry2);
      await ensure(old);
      const ref = res.image(`localhost:${port}/kdt/upgrade:${id}`);
      await pushTestImage(ref);
      const manifestUrl = `http://127.0.0.1:${port}/v2/kdt/upgrade/manifests/${id}`;
      const accept = { Accept: MANIFEST_V2 };
      const stored = await http(manifestUrl, { headers: accept });
      expect(stored.status).toBe(200);
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
      await waitForHttpOk(`http://127.0.0.1:${suite.port(2)}/v2/`);

      const before = {
        registry: (await mustContainerInfo(old.registry.name)).id,
        cache: (await mustContainerInfo(old.cache.name)).id,
      };
      const now = specsFor();
      const said = await ensure(now);
      const ids: Record<string, string> = {};
      for (const role of roles) {
        const { name, volume } = now[role];
        expect([old[role].image, now[role].image, volume]).toEqual([
          "registry:2",
          "registry:3",
          old[role].volume,
        ]);
        expect(said[role]).toContain(
          `pulumi-kind-dev: replacing the ${role} container ${name}: image registry:2 -> registry:3; data stays on volume ${volume}. To keep registry:2, set registryImage: registry:2\n`,
        );
        expect(said[role]).not.toContain("warning");
        const after = await mustContainerInfo(name);
        expect(after.id).not.toBe(before[role]);
        ids[role] = after.id;
        expect([after.image, after.volumes]).toEqual(["registry:3", [volume]]);
        expect(after.labels[LABEL_SPEC]).toBe(specHash(now[role]));
      }
      expect(said["registry"]).toContain(
        `registry kdt-upgrade-${id} answers at http://127.0.0.1:${port}/v2/`,
      );

      // The registry reads what registry:2 wrote: same catalog, same manifest bytes, same image.
      expect(await catalog(port)).toEqual(["kdt/upgrade"]);
      expect(await http(manifestUrl, { headers: accept })).toEqual(stored);
      await docker(["image", "rm", ref]);
      await docker(["pull", ref]);
      expect(await imageId(ref)).toBe(await imageId(BED_IMAGES.testImage));
      // ... and takes pushes on top of it.
      await pushTestImage(res.image(`localhost:${port}/kdt/upgrade:${id}-v3`));
      const tags = await http(`http://127.0.0.1:${port}/v2/kdt/upgrade/tags/list`);
      expect((JSON.parse(tags.body) as { tags: string[] }).tags.sort()).toEqual([id, `${id}-v3`]);
      // Upstream gone: whatever the cache serves comes from the volume registry:2 filled.
      await docker(["stop", upstream]);
      expect(await fetchImage(cachePort, repo)).toEqual(digests);
      expect(await catalog(cachePort)).toEqual([repo]);
      expect((await mustContainerInfo(now.cache.name)).restartCount).toBe(0);

      // The next run keeps both registry:3 containers.
      const again = await ensure(now);
      for (const role of roles) {
        expect(again[role]).toContain(`using the existing ${role} container ${now[role].name}`);
        expect((await mustContainerInfo(now[role].name)).id).toBe(ids[role]);
      }
    });
  },
);
