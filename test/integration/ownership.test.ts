/**
 * Integration test: what the component's scripts may touch (issue #19), on the real Docker
 * engine, with the scripts run as `@pulumi/command` runs them.
 * - A name that is another container's or network's ID prefix: Docker itself resolves it to that
 *   object (shown first); the remove and ensure steps leave it alone.
 * - With the daemon unreachable (DOCKER_HOST on a dead socket) the remove steps of a registry, a
 *   network and a cluster fail in one line and remove nothing; once it answers they do.
 * - kind failing (a node image that cannot be pulled): the step prints kind's last lines and one
 *   line naming its log, and leaves no marker. A cluster made some other way after an interrupted
 *   run is left alone; the one the marker names is deleted.
 * - A new image that cannot be pulled leaves the running registry as it is, still answering.
 * - Another stack's container with other settings is refused, not replaced.
 * Everything here is named own-test-* (the network kdt-net-*); the scripts keep their state (locks, markers, kind's log)
 * and kind its kubeconfig in a temporary directory.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import {
  cacheContainerSpec,
  type ContainerSpec,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_SPEC,
  registryContainerSpec,
} from "../../components/render/containerSpecs";
import { renderKindConfig } from "../../components/render/kindConfig";
import {
  clusterScript,
  networkScript,
  registryContainerScript,
  type Script,
} from "../../components/scripts";
import {
  BED_BIN,
  BED_IMAGES,
  bedSuite,
  containerInfo,
  describeDocker,
  docker,
  dockerResult,
  freePort,
  mustContainerInfo,
  type RunResult,
  runScript,
  volumeExists,
  waitForHttpOk,
} from "./helpers";

/** An image no registry serves: pulling it fails. */
const MISSING_IMAGE = "own-test-missing/image:none";

describeDocker("issue #19: exact names, docker not answering, markers, images, owners", () => {
  const { id, res, network } = bedSuite();
  let state = "";

  function cache(name: string, over: Partial<Parameters<typeof cacheContainerSpec>[0]> = {}) {
    res.container(name);
    res.volume(`${name}-data`);
    return cacheContainerSpec({
      name,
      image: BED_IMAGES.registry,
      network,
      volume: `${name}-data`,
      upstreamHost: "docker.io",
      remoteUrl: "https://registry-1.docker.io",
      hostIp: "127.0.0.1",
      ...over,
    });
  }

  /** The container's command as the component renders it for a new container. */
  function containerCommand(
    spec: ContainerSpec,
    opts: { owner?: string; probeUrl?: string } = {},
  ): Script {
    return registryContainerScript({
      spec,
      secretEnv: {},
      state: "absent",
      removeOnDelete: true,
      ...opts,
    });
  }

  /** Runs the script with this test's state directory and kubeconfig, plus `extra`. */
  function run(cmd: Script, phase: "create" | "delete" = "create", extra = {}): Promise<RunResult> {
    const kubeconfig = path.join(state, "kubeconfig");
    const environment = { ...cmd.environment, XDG_STATE_HOME: state, KUBECONFIG: kubeconfig };
    return runScript({ ...cmd, environment: { ...environment, ...extra } }, phase);
  }

  beforeAll(() => {
    state = res.tempDir();
  });

  it("case 1: a name that is another container's ID prefix: remove and ensure leave that container alone", async () => {
    const labels = { [LABEL_MANAGED]: "true", [LABEL_SPEC]: "someone-elses" };
    const decoy = await res.run(
      `own-test-decoy-${id}`,
      id,
      { network, labels },
      BED_IMAGES.registry,
    );
    const before = await mustContainerInfo(decoy);
    const prefix = before.id.slice(0, 12);
    // The hazard: Docker itself takes the prefix for that container.
    expect((await docker(["container", "inspect", "--format", "{{.Name}}", prefix])).trim()).toBe(
      `/${decoy}`,
    );
    // Validation refuses such a name; the scripts must not depend on it.
    expect(() => resolveConfig({ registryName: prefix })).toThrow(
      `KindDevEnvironment: invalid registryName "${prefix}": must contain a character other than 0-9 and a-f`,
    );
    const spec = { ...cache(`own-test-unused-${id}`), name: prefix };

    const removed = await run(containerCommand(spec), "delete");
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stderr).toBe(
      `pulumi-kind-dev: ${prefix} and its volume ${spec.volume} were already gone\n`,
    );

    const ensured = await run(containerCommand({ ...spec, image: MISSING_IMAGE }));
    expect(ensured.code).toBe(1);
    // It found no container of its own: it would have said "left as it is" of one. And it made
    // none named so (Docker would resolve the name to that one before the prefix).
    expect(ensured.stderr).toContain("; nothing was started.");
    expect(await containerInfo(prefix)).toMatchObject({ id: before.id });
    expect(await volumeExists(spec.volume)).toBe(false);

    const after = await mustContainerInfo(decoy);
    expect({ id: after.id, running: after.running, startedAt: after.startedAt }).toEqual({
      id: before.id,
      running: true,
      startedAt: before.startedAt,
    });
  });

  it("case 1: a name that is another network's ID prefix: the network steps leave it alone", async () => {
    const decoy = res.network(`own-test-decoynet-${id}`);
    const decoyId = (
      await docker(["network", "create", "--label", `${LABEL_MANAGED}=true`, decoy])
    ).trim();
    const prefix = decoyId.slice(0, 12);
    expect((await docker(["network", "inspect", "--format", "{{.Name}}", prefix])).trim()).toBe(
      decoy,
    );
    const r = await run(networkScript(prefix, true), "delete");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`pulumi-kind-dev: docker network ${prefix} is already gone\n`);
    expect((await docker(["network", "inspect", "--format", "{{.Id}}", decoy])).trim()).toBe(
      decoyId,
    );
  });

  it("case 2: with the daemon unreachable the remove steps fail in one line and remove nothing", async () => {
    const spec = cache(`own-test-down-${id}`);
    const made = await run(containerCommand(spec));
    expect(made.code, made.stderr).toBe(0);
    const before = await mustContainerInfo(spec.name);
    const dead = { DOCKER_HOST: `unix://${path.join(state, "own-test-dead.sock")}` };
    const DOWN =
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n";
    for (const [cmd, what] of [
      [containerCommand(spec), "registry"],
      [networkScript(network, true), "network"],
      [clusterScript(`own-test-c0-${id}`, network, ""), "cluster"],
    ] as const) {
      const r = await run(cmd, "delete", dead);
      expect({ what, code: r.code, stderr: r.stderr }).toEqual({ what, code: 1, stderr: DOWN });
    }
    expect((await mustContainerInfo(spec.name)).id).toBe(before.id);
    expect(await volumeExists(spec.volume)).toBe(true);
    expect((await dockerResult(["network", "inspect", network])).code).toBe(0);

    const removed = await run(containerCommand(spec), "delete");
    expect(removed.stderr).toBe(
      `pulumi-kind-dev: removed ${spec.name} and its volume ${spec.volume}\n`,
    );
    expect(await containerInfo(spec.name)).toBeUndefined();
    expect(await volumeExists(spec.volume)).toBe(false);
  });

  it("case 5: a new image that cannot be pulled leaves the running registry as it is", async () => {
    const name = res.container(`own-test-img-${id}`);
    res.volume(`${name}-data`);
    const port = await freePort();
    const spec = registryContainerSpec({
      name,
      image: BED_IMAGES.registry,
      network,
      volume: `${name}-data`,
      hostIp: "127.0.0.1",
      hostPort: port,
    });
    const registry = (image: string): Script =>
      containerCommand({ ...spec, image }, { probeUrl: `http://127.0.0.1:${port}/v2/` });
    expect((await run(registry(BED_IMAGES.registry))).code).toBe(0);
    const before = await mustContainerInfo(name);
    const r = await run(registry(MISSING_IMAGE));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^pulumi-kind-dev: could not pull the image ${MISSING_IMAGE} \\(.+\\); the registry container ${name} is left as it is, on image ${BED_IMAGES.registry}\\. Make ${MISSING_IMAGE} available \\(docker pull ${MISSING_IMAGE}\\) or set the image back to ${BED_IMAGES.registry}, then run pulumi up again\\.\\n$`,
      ),
    );
    const after = await mustContainerInfo(name);
    expect({ id: after.id, image: after.image, startedAt: after.startedAt }).toEqual({
      id: before.id,
      image: BED_IMAGES.registry,
      startedAt: before.startedAt,
    });
    await waitForHttpOk(`http://127.0.0.1:${port}/v2/`);
    // An image that is there: replaced on the same volume.
    const moved = await run(registry(BED_IMAGES.registry2));
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toContain(
      `replacing the registry container ${name}: image ${BED_IMAGES.registry} -> ${BED_IMAGES.registry2}`,
    );
    expect((await mustContainerInfo(name)).volumes).toEqual([`${name}-data`]);
  });

  it("case 4: another stack's container with other settings is refused, not replaced", async () => {
    const spec = cache(`own-test-shared-${id}`);
    expect((await run(containerCommand(spec, { owner: "own-test/dev" }))).code).toBe(0);
    const before = await mustContainerInfo(spec.name);
    expect(before.labels[LABEL_OWNER]).toBe("own-test/dev");
    const other = cache(spec.name, { ttl: "1h" });
    const r = await run(containerCommand(other, { owner: "own-test/test" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the cache container ${spec.name} was created by own-test/dev with other settings than own-test/test asks for (env.REGISTRY_PROXY_TTL (none) -> 1h)`,
    );
    // The same settings: shared as it is.
    const shared = await run(containerCommand(spec, { owner: "own-test/test" }));
    expect(shared.code, shared.stderr).toBe(0);
    expect((await mustContainerInfo(spec.name)).id).toBe(before.id);
  });

  const KIND = path.join(BED_BIN, "kind");

  it.skipIf(!existsSync(KIND))(
    "case 3: kind fails (it cannot pull the node image): its last lines with docker's reason, one line naming the image and the log, no marker left",
    async () => {
      const cluster = `own-test-c1-${id}`;
      const config = resolveConfig({
        clusterName: cluster,
        networkName: network,
        nodeImage: MISSING_IMAGE,
        caches: [],
      });
      // No NODE_IMAGE, so no pull before kind: kind pulls the image itself, as it does its default.
      const r = await run(clusterScript(cluster, network, renderKindConfig(config)));
      expect(r.code).toBe(1);
      const log = path.join(state, "pulumi-kind-dev", `kind-create-${cluster}.log`);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines.length).toBeLessThanOrEqual(6);
      expect(lines.at(-1)).toBe(
        `pulumi-kind-dev: could not create the kind cluster ${cluster}: kind could not pull its node image ${MISSING_IMAGE} (Docker's reason above; all of kind's output in ${log}). Make it available (docker pull ${MISSING_IMAGE}) or set nodeImage to a kind node image on this machine, then run pulumi up again.`,
      );
      // kind's last line, docker's reason, has no newline after it.
      expect(lines.at(-2)).toMatch(/^ {2}Command Output: Error response from daemon: /);
      expect(readFileSync(log, "utf8")).toContain(MISSING_IMAGE);
      expect(existsSync(path.join(state, "pulumi-kind-dev", `creating-${cluster}`))).toBe(false);
      const nodes = await docker([
        "ps",
        "-aq",
        "--filter",
        `label=io.x-k8s.kind.cluster=${cluster}`,
      ]);
      expect(nodes.trim()).toBe("");
    },
  );

  it.skipIf(!existsSync(KIND))(
    "case 3: a cluster made some other way is left alone; the one the marker names is deleted",
    async () => {
      const cluster = `own-test-c2-${id}`;
      // A stand-in node: kind finds clusters by these labels.
      const labels = { "io.x-k8s.kind.cluster": cluster, "io.x-k8s.kind.role": "control-plane" };
      const node = await res.run(
        `${cluster}-control-plane`,
        id,
        { network, labels },
        BED_IMAGES.debian,
        "sleep",
        "infinity",
      );
      const nodeId = (await mustContainerInfo(node)).id;
      const dir = path.join(state, "pulumi-kind-dev");
      const marker = path.join(dir, `creating-${cluster}`);
      mkdirSync(dir, { recursive: true });
      const config = renderKindConfig(
        resolveConfig({ clusterName: cluster, networkName: network, nodeImage: MISSING_IMAGE }),
      );
      const create = clusterScript(cluster, network, config);

      writeFileSync(marker, `begun 1\nnode ${"0".repeat(64)}\n`);
      const refused = await run(create);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `pulumi-kind-dev: a kind cluster named ${cluster} already exists and is not in this stack: an interrupted run left the marker ${marker}, but this cluster's control-plane container is not the one that run began, so it was made some other way and is left alone. Delete it (kind delete cluster --name ${cluster}) or choose another clusterName.\n`,
      );
      expect((await mustContainerInfo(node)).running).toBe(true);

      writeFileSync(marker, `begun 1\nnode ${nodeId}\n`);
      const replaced = await run(create);
      // Deleted as the leftover it is; creating it again fails on the image nobody serves.
      expect(replaced.code).toBe(1);
      expect(replaced.stderr).toContain(
        `pulumi-kind-dev: the kind cluster ${cluster} is left from an interrupted run (its creation never finished): deleting it and creating it again\n`,
      );
      expect(await containerInfo(node)).toBeUndefined();
      expect(existsSync(marker)).toBe(false);
    },
  );
});
