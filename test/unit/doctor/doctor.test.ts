/**
 * The whole doctor (discovery, every check, causes, --fix) replayed on the recorded sessions of
 * recorded.ts: healthy, and with one fault at a time.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeScript } from "../../../components/doctor/facts";
import { parseHostsList } from "../../../components/doctor/parse";
import { hostSlug } from "../../../components/render/text";
import { hostsScript } from "../../../components/scripts";
import {
  CACHE,
  CLUSTER,
  CP,
  doctor,
  NETWORK,
  PORT,
  recordedHosts,
  REGISTRY,
  rootFaults,
  type Run,
  WORKER,
} from "./recorded";
import { scriptHarness } from "../scripts/harness";

/**
 * What --fix must run for the worker's missing file: the component's own command for the node
 * (scripts.ts hostsScript: hosts-sync.sh, hosts-node.sh inside the node) with every file of the
 * node, as the component wrote them in the recording.
 */
const WRITTEN = recordedHosts(WORKER);
const written = (dir: string): string => WRITTEN[dir] ?? `(${dir}: not in the recording)`;
const WRITE_SCRIPT = hostsScript(
  WORKER,
  [`localhost:${PORT}`, `${REGISTRY}:5000`, "docker.io"].map((dir) => ({
    hostDir: dir,
    slug: hostSlug(dir),
    toml: written(dir),
  })),
);
const WRITE_WORKER: Run = {
  argv: ["sh", "-c", WRITE_SCRIPT.create],
  env: WRITE_SCRIPT.environment,
};
const WRONG_TEXT: Run = {
  ...WRITE_WORKER,
  env: { ...WRITE_WORKER.env, HOSTS_TOML_DOCKER_IO: `${written("docker.io")}\n` },
};

describe("the doctor on recorded sessions", () => {
  const fake = scriptHarness();

  it("healthy: every check passes, in this order, saying what it found", async () => {
    const { report, ran } = await doctor();
    const rows = report.results.map((r) => `${r.status} ${r.id}  ${r.detail}`).join("\n");
    // Addresses, the start time and the probe's seconds change with each recording.
    const stable = rows
      .replace(/\d+\.\d+\.\d+\.\d+/g, "<ip>")
      .replace(/since \S+Z;/, "since <time>;")
      .replace(/ in \d+\.\d s/g, " in <n> s");
    expect(stable).toBe(`pass docker  Docker engine 20.10.24+dfsg1
pass kind  kind v0.33.0
pass kubectl  kubectl v1.34.0
pass cluster  kdev-doc: 2 nodes (kdev-doc-control-plane, kdev-doc-worker) on network kdev-doc
pass kubeconfig  --kubeconfig KUBECONFIG
pass registry.running  kdev-doc-registry (registry:3), running since <time>; found by label, on network kdev-doc
pass registry.label  dev.pulumi-kind-dev.managed=true
pass registry.network  on network kdev-doc
pass registry.published  <ip>:${PORT} -> 5000
pass registry.api  GET http://<ip>:${PORT}/v2/ -> 200
pass cache.running@kdev-doc-cache-docker-io  kdev-doc-cache-docker-io (registry:3) caches docker.io from http://kdev-doc-upstream:5000
pass cache.network@kdev-doc-cache-docker-io  on network kdev-doc
pass cache.upstream@kdev-doc-cache-docker-io  GET http://kdev-doc-upstream:5000/v2/ -> 200, from kdev-doc-control-plane
${[CP, WORKER]
  .map(
    (node) => `pass node.running@${node}  running
pass node.ready@${node}  Ready (KubeletReady: kubelet is posting ready status)
pass node.containerd@${node}  config_path = "/etc/containerd/certs.d", no legacy registry.mirrors/configs
pass node.hosts-toml@${node}/localhost:${PORT}  as the component renders it (-> http://kdev-doc-registry:5000)
pass node.hosts-toml@${node}/kdev-doc-registry:5000  as the component renders it (-> http://kdev-doc-registry:5000)
pass node.hosts-toml@${node}/docker.io  as the component renders it (-> http://kdev-doc-cache-docker-io:5000)
pass node.resolve@${node}/kdev-doc-registry  kdev-doc-registry -> <ip>
pass node.resolve@${node}/kdev-doc-cache-docker-io  kdev-doc-cache-docker-io -> <ip>
pass node.pull@${node}  crictl pull localhost:${PORT}/kind-dev-doctor:probe in <n> s
`,
  )
  .join("")}pass configmap  matches the registry (localhost:${PORT}, kdev-doc-registry:5000)
pass volume@kdev-doc-registry-data  0 B (registry kdev-doc-registry)
pass volume@kdev-doc-cache-docker-io-data  0 B (cache kdev-doc-cache-docker-io)`);
    expect(report.ok).toBe(true);
    expect(ran).toEqual([]);
  });

  it("--registry names the registry the labels find: the same commands, every check passes", async () => {
    const { report } = await doctor(undefined, { registry: REGISTRY });
    expect(report.results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(report.results.find((r) => r.id === "registry.running")?.detail).toMatch(
      /; found by --registry$/,
    );
  });

  it("a node's hosts.toml removed: that file is the one fault; the pull follows from it; --fix writes it", async () => {
    const id = `node.hosts-toml@${WORKER}/localhost:${PORT}`;
    const { report } = await doctor("hosts-toml-removed");
    expect(rootFaults(report.results).map((r) => [r.id, r.detail, r.remedy])).toEqual([
      [
        id,
        `missing /etc/containerd/certs.d/localhost:${PORT}/hosts.toml: containerd on ${WORKER} sends pulls of localhost:${PORT}/... to localhost:${PORT} itself`,
        `npx kind-dev doctor --fix --cluster ${CLUSTER} --kubeconfig KUBECONFIG (writes the file the component renders)`,
      ],
    ]);
    const pull = report.results.find((r) => r.id === `node.pull@${WORKER}`);
    expect(pull).toMatchObject({ status: "fail", causedBy: id });
    expect(pull?.detail).toMatch(
      new RegExp(`^crictl pull localhost:${PORT}/kind-dev-doctor:probe: .*connection refused`),
    );

    expect(Object.keys(WRITTEN).sort()).toEqual([
      "docker.io",
      `${REGISTRY}:5000`,
      `localhost:${PORT}`,
    ]);
    const fixed = await doctor("hosts-toml-removed", { fix: true, repair: WRITE_WORKER });
    expect(fixed.ran).toEqual([WRITE_WORKER]);
    expect(fixed.report.fixes).toEqual([
      {
        id,
        description: `wrote /etc/containerd/certs.d/localhost:${PORT}/hosts.toml on ${WORKER}`,
        ok: true,
      },
    ]);
    expect(rootFaults(fixed.report.before ?? []).map((r) => r.id)).toEqual([id]);
    expect(fixed.report.ok).toBe(true);

    // What that repair writes: the command --fix ran, against the fake docker, hands the node
    // script its files; the node script, run on a directory standing in for the node's certs.d,
    // leaves exactly the files the recording read from the node.
    const [repair] = fixed.ran;
    const r = fake.run({ create: repair?.argv[2] ?? "", environment: repair?.env ?? {} });
    expect(r.status).toBe(0);
    const exec = r.calls.find((c) => c.argv[0] === "exec")?.argv ?? [];
    // hosts-sync.sh passes scripts/hosts-node.sh as $(node_script): its last newline dropped.
    expect(exec.slice(0, 5)).toEqual(["exec", WORKER, "sh", "-c", nodeScript().trimEnd()]);
    const certsD = mkdtempSync(path.join(os.tmpdir(), "kind-dev-certs-d-"));
    try {
      const node = (args: string[]) =>
        spawnSync("sh", ["-c", exec[4] ?? "", "sh", ...args], { encoding: "utf8" });
      expect(node([certsD, ...exec.slice(7)]).status).toBe(0);
      expect(parseHostsList(node(["--list", certsD]).stdout)).toEqual(WRITTEN);
    } finally {
      rmSync(certsD, { recursive: true, force: true });
    }
  });

  it("the registry off the network: found through the ConfigMap, named once; its API, names and pulls follow from it", async () => {
    const { report } = await doctor("registry-disconnected");
    expect(report.results.find((r) => r.id === "registry.running")?.detail).toMatch(
      /; found by the ConfigMap's hostFromClusterNetwork$/,
    );
    expect(rootFaults(report.results).map((r) => [r.id, r.detail, r.remedy])).toEqual([
      [
        "registry.network",
        `${REGISTRY} is not on network ${NETWORK} (on: none): the nodes cannot reach it by name`,
        `docker network connect ${NETWORK} ${REGISTRY}`,
      ],
    ]);
    expect(
      report.results.filter((r) => r.causedBy === "registry.network").map((r) => r.id),
    ).toEqual([
      "registry.api",
      `node.resolve@${CP}/${REGISTRY}`,
      `node.pull@${CP}`,
      `node.resolve@${WORKER}/${REGISTRY}`,
      `node.pull@${WORKER}`,
    ]);
    const connect = { argv: ["docker", "network", "connect", NETWORK, REGISTRY] };
    const fixed = await doctor("registry-disconnected", { fix: true, repair: connect });
    expect(fixed.ran).toEqual([connect]);
    expect(fixed.report.fixes).toEqual([
      {
        id: "registry.network",
        description: `connected ${REGISTRY} to network ${NETWORK}`,
        ok: true,
      },
    ]);
    expect(fixed.report.ok).toBe(true);
  });

  it("a cache stopped: named once; --fix starts it", async () => {
    const { report } = await doctor("cache-stopped");
    expect(rootFaults(report.results).map((r) => [r.id, r.detail, r.remedy])).toEqual([
      [
        `cache.running@${CACHE}`,
        `${CACHE} is exited (exit code 2); nodes pull docker.io from http://kdev-doc-upstream:5000 directly meanwhile`,
        `docker start ${CACHE}`,
      ],
    ]);
    expect(
      report.results.filter((r) => r.causedBy === `cache.running@${CACHE}`).map((r) => r.id),
    ).toEqual([`node.resolve@${CP}/${CACHE}`, `node.resolve@${WORKER}/${CACHE}`]);
    const start = { argv: ["docker", "start", CACHE] };
    const fixed = await doctor("cache-stopped", { fix: true, repair: start });
    expect(fixed.ran).toEqual([start]);
    expect(fixed.report.ok).toBe(true);
  });

  it("the ConfigMap deleted: named once, with pulumi up --refresh; --fix leaves it alone", async () => {
    const { report } = await doctor("configmap-deleted");
    expect(rootFaults(report.results)).toEqual([
      {
        id: "configmap",
        title: "ConfigMap kube-public/local-registry-hosting",
        status: "fail",
        detail: "does not exist: Tilt, Skaffold and ctlptl cannot discover the registry (KEP-1755)",
        remedy: "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)",
      },
    ]);
    const fixed = await doctor("configmap-deleted", { fix: true });
    expect(fixed.ran).toEqual([]);
    expect(fixed.report.fixes).toEqual([]);
    expect(fixed.report.ok).toBe(false);
  });

  it("a node stopped: only that node is named; what cannot be read there follows from it", async () => {
    const { report, ran } = await doctor("node-stopped");
    expect(rootFaults(report.results).map((r) => [r.id, r.detail, r.remedy])).toEqual([
      [`node.running@${WORKER}`, `${WORKER} is exited (exit code 130)`, `docker start ${WORKER}`],
    ]);
    expect(
      report.results.filter((r) => r.status !== "pass").map((r) => [r.id, r.causedBy]),
    ).toEqual([
      [`node.running@${WORKER}`, undefined],
      [`node.ready@${WORKER}`, `node.running@${WORKER}`],
      [`node.containerd@${WORKER}`, `node.running@${WORKER}`],
      [`node.hosts-toml@${WORKER}/localhost:${PORT}`, `node.running@${WORKER}`],
      [`node.hosts-toml@${WORKER}/${REGISTRY}:5000`, `node.running@${WORKER}`],
      [`node.hosts-toml@${WORKER}/docker.io`, `node.running@${WORKER}`],
    ]);
    // The API server still said Ready (its heartbeat had not timed out): the doctor knows better.
    expect(report.results.find((r) => r.id === `node.ready@${WORKER}`)?.detail).toBe(
      "not Ready: its container is not running (the API server's Ready is stale)",
    );
    // Starting a node is not --fix's to do; nothing ran but what was recorded.
    expect(ran).toEqual([]);
    const fixed = await doctor("node-stopped", { fix: true });
    expect(fixed.report.fixes).toEqual([]);
  });

  it("the registry removed by hand: found through the ConfigMap, named once, pulumi up", async () => {
    const { report } = await doctor("registry-removed");
    expect(rootFaults(report.results)).toEqual([
      {
        id: "registry.running",
        title: "push registry container runs",
        status: "fail",
        detail: `container ${REGISTRY} (found by the ConfigMap's hostFromClusterNetwork) does not exist; its volume ${REGISTRY}-data is still there, with the images`,
        remedy: `pulumi up (creates ${REGISTRY} again on ${REGISTRY}-data, images included)`,
      },
    ]);
    expect(
      report.results.filter((r) => r.causedBy === "registry.running").map((r) => r.id),
    ).toEqual([
      `node.resolve@${CP}/${REGISTRY}`,
      `node.pull@${CP}`,
      `node.resolve@${WORKER}/${REGISTRY}`,
      `node.pull@${WORKER}`,
    ]);
    // The nodes' files and the ConfigMap still match the registry the ConfigMap names.
    expect(report.results.find((r) => r.id === "configmap")?.status).toBe("pass");
    expect(report.results.find((r) => r.id === `volume@${REGISTRY}-data`)?.status).toBe("pass");
    expect((await doctor("registry-removed", { fix: true })).report.fixes).toEqual([]);
  });

  it.each([
    ["hosts.toml text that differs by one byte", "hosts-toml-removed", WRONG_TEXT],
    [
      "another node's files",
      "hosts-toml-removed",
      { ...WRITE_WORKER, env: { ...WRITE_WORKER.env, NODE: CP } },
    ],
    [
      "the network connected to another container",
      "registry-disconnected",
      { argv: ["docker", "network", "connect", NETWORK, CACHE] },
    ],
    ["another container started", "cache-stopped", { argv: ["docker", "start", REGISTRY] }],
  ])(
    "the replay fails when --fix does not run the exact repair: %s",
    async (_name, fault, repair) => {
      await expect(doctor(fault, { fix: true, repair })).rejects.toThrow(
        /^not in the recording, nor the repair expected: /,
      );
    },
  );
});
