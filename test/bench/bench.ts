/**
 * Benchmarks for pulumi-kind-dev (issue 5). Run with `npm run bench` (test/bench/run.sh), which
 * prepares the test bed first. Everything runs against the real engine (Automation API, file
 * backend in a temp dir), real kind clusters built from the bed's node image, and local
 * registries only. Every container, volume, network and cluster it makes is named kdev-bench-*
 * and removed at the end, also on failure.
 *
 *   1. image delivery: kind load docker-image vs docker push to the component's registry
 *   2. cluster recreation with an empty vs a warm pull-through cache (bandwidth-limited upstream)
 *   3. engine overhead: pulumi up from nothing vs bare kind create + docker run registry
 *
 * Environment (all optional):
 *   BENCH_RUNS=3          runs per measurement (median reported); BENCH1_RUNS, BENCH2_RUNS,
 *                         BENCH3_RUNS override it per benchmark
 *   BENCH_ONLY=1,2,3      which benchmarks to run
 *   BENCH_SIZES=100,500,1024   image sizes (MiB) for benchmark 1
 *   BENCH_RATE=100mbit    upstream link rate for benchmark 2 (tc tbf rate)
 *   BENCH2_IMAGES=5 BENCH2_TOTAL_MIB=1000   workload of benchmark 2
 *   BENCH_OUT=docs/bench  where results.json / results.md / chart.png go
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { resolveConfig } from "../../components/config";
import {
  freePort,
  pulumiEnv,
  REPO_DIR,
  run,
  startRegistryStandIn,
  tryRun,
  TOOLS_ENV,
  waitFor as waitEvery,
  WRAPPER_DIR,
} from "../support/bed";
import { type Results, type Sample, writeReport } from "./report";

/** Polls every 250 ms: the timings below are only as fine as this. */
const waitFor = (what: string, timeoutMs: number, check: () => boolean, everyMs = 250) =>
  waitEvery(what, timeoutMs, check, everyMs);

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const PAUSE = "registry.k8s.io/pause:3.10";
const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number.parseInt(v, 10);
};
const RUNS = envInt("BENCH_RUNS", 3);
const RUNS1 = envInt("BENCH1_RUNS", RUNS);
const RUNS2 = envInt("BENCH2_RUNS", RUNS);
const RUNS3 = envInt("BENCH3_RUNS", RUNS);
const ONLY = (process.env["BENCH_ONLY"] ?? "1,2,3").split(",").map((s) => s.trim());
const SIZES = (process.env["BENCH_SIZES"] ?? "100,500,1024").split(",").map(Number);
const RATE = process.env["BENCH_RATE"] ?? "100mbit";
const B2_IMAGES = envInt("BENCH2_IMAGES", 5);
const B2_TOTAL = envInt("BENCH2_TOTAL_MIB", 1000);
const OUT = path.resolve(REPO_DIR, process.env["BENCH_OUT"] ?? "docs/bench");

const CLUSTER = "kdev-bench";
const NETWORK = "kdev-bench";
const REGISTRY = "kdev-bench-registry";
const CACHE = "kdev-bench-cache-docker-io";
const UPSTREAM = "kdev-bench-upstream";
const BARE_REGISTRY = "kdev-bench-bare-registry";
const STACK = `bench-${process.pid}`;

function log(msg: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

const secs = (ms: number) => Math.round(ms) / 1000;

// ---------------------------------------------------------------------------------------------
// Stack, cluster and cleanup

let backend = "";
let kubeconfigFile = "";
let stack: Stack | undefined;
let registryPort = 5999;
let upstreamPort = 0;
let workDir = "";

function resolved() {
  return resolveConfig({
    clusterName: CLUSTER,
    workers: 1,
    nodeImage: NODE_IMAGE,
    networkName: NETWORK,
    registryName: REGISTRY,
    registryPort,
    caches: [
      { upstreamHost: "docker.io", remoteUrl: `http://${UPSTREAM}:5000`, containerName: CACHE },
    ],
  });
}

function kubectl(...args: string[]): string {
  return run("kubectl", ["--kubeconfig", kubeconfigFile, ...args]);
}

function apply(manifest: string): void {
  run("kubectl", ["--kubeconfig", kubeconfigFile, "apply", "-f", "-"], { input: manifest });
}

/** Per-resource [start, end] seconds of the last `up` with timings, from the engine's events. */
let lastTimings: Record<string, [number, number]> = {};

async function up(timings = false): Promise<void> {
  if (!stack) {
    throw new Error("no stack");
  }
  const t0 = Date.now();
  const spans: Record<string, [number, number]> = {};
  const r = await stack.up({
    onOutput: () => undefined,
    ...(timings
      ? {
          onEvent: (e) => {
            const at = secs(Date.now() - t0);
            const pre = e.resourcePreEvent?.metadata;
            const outs = e.resOutputsEvent?.metadata;
            if (pre && pre.op !== "same") {
              spans[pre.urn.split("::").pop() ?? pre.urn] = [at, NaN];
            }
            if (outs) {
              const k = outs.urn.split("::").pop() ?? outs.urn;
              if (spans[k]) {
                spans[k][1] = at;
              }
            }
          },
        }
      : {}),
  });
  if (timings) {
    lastTimings = spans;
  }
  if (r.summary.result !== "succeeded") {
    throw new Error(`pulumi up: ${r.summary.result}`);
  }
  const outputs = await stack.outputs();
  writeFileSync(kubeconfigFile, String(outputs["kubeconfig"]?.value), { mode: 0o600 });
}

async function upChanges(): Promise<Record<string, number>> {
  if (!stack) {
    throw new Error("no stack");
  }
  const r = await stack.up({ onOutput: () => undefined });
  return Object.fromEntries(
    Object.entries(r.summary.resourceChanges ?? {}).filter(([op]) => op !== "same"),
  ) as Record<string, number>;
}

async function destroy(): Promise<void> {
  if (!stack) {
    return;
  }
  await stack.destroy({ onOutput: () => undefined });
}

function removeContainer(name: string, volume?: string): void {
  tryRun("docker", ["rm", "-f", "-v", name]);
  if (volume) {
    tryRun("docker", ["volume", "rm", "-f", volume]);
  }
}

function removeRegistryAndCache(): void {
  const cfg = resolved();
  removeContainer(REGISTRY, cfg.registry.spec.volume);
  for (const c of cfg.caches) {
    removeContainer(c.spec.name, c.spec.volume);
  }
}

function cleanupAll(): void {
  tryRun("kind", ["delete", "cluster", "--name", CLUSTER]);
  removeRegistryAndCache();
  removeContainer(BARE_REGISTRY, `${BARE_REGISTRY}-data`);
  removeContainer(UPSTREAM);
  tryRun("docker", ["network", "rm", NETWORK]);
  const imgs = tryRun("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"]).out.split("\n");
  const mine = imgs.filter(
    (i) =>
      i.startsWith("kdev-bench/") ||
      /^(localhost|127\.0\.0\.1):\d+\/(bench|library\/bench)/.test(i),
  );
  if (mine.length > 0) {
    tryRun("docker", ["rmi", "-f", ...mine]);
  }
}

function nodes(): string[] {
  return [`${CLUSTER}-control-plane`, `${CLUSTER}-worker`];
}

function startUpstream(): Promise<void> {
  return startRegistryStandIn(UPSTREAM, NETWORK, upstreamPort);
}

// ---------------------------------------------------------------------------------------------
// Synthetic images: FROM pause (its one tiny layer is on every node already), random layers.

function randomFile(file: string, mib: number): void {
  run("sh", ["-c", `head -c ${Math.round(mib * 1048576)} /dev/urandom > "$0"`, file]);
}

/** Builds `tag` from `dir` (layer files l0..lN-1 and top); returns the file list written. */
function buildImage(dir: string, files: string[], tag: string): void {
  const df = [`FROM ${PAUSE}`, ...files.map((f) => `COPY ${f} /${f}`)].join("\n") + "\n";
  writeFileSync(path.join(dir, "Dockerfile"), df);
  run("docker", ["build", "-q", "-t", tag, dir], {
    env: { DOCKER_BUILDKIT: "0" },
  });
}

/** Layout: k layers of equal size plus a 10 MiB top layer; k about one per 128 MiB, at least 2. */
function layerPlan(totalMiB: number): { layers: number; each: number; top: number } {
  const top = 10;
  const layers = Math.max(2, Math.round(totalMiB / 128));
  return { layers, each: (totalMiB - top) / layers, top };
}

/** Builds a cold and an incremental (new top layer) image for one delivery test. */
function buildPair(name: string, totalMiB: number): { cold: string; incr: string } {
  const dir = mkdtempSync(path.join(workDir, "img-"));
  const plan = layerPlan(totalMiB);
  const files: string[] = [];
  for (let i = 0; i < plan.layers; i++) {
    randomFile(path.join(dir, `l${i}`), plan.each);
    files.push(`l${i}`);
  }
  randomFile(path.join(dir, "top"), plan.top);
  files.push("top");
  const cold = `${name}:cold`;
  const incr = `${name}:incr`;
  buildImage(dir, files, cold);
  randomFile(path.join(dir, "top"), plan.top);
  buildImage(dir, files, incr);
  rmSync(dir, { recursive: true, force: true });
  return { cold, incr };
}

function imageBytes(ref: string): number {
  return Number(run("docker", ["image", "inspect", "-f", "{{.Size}}", ref]).trim());
}

// ---------------------------------------------------------------------------------------------
// Benchmark 1: image delivery

const DS = (name: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: default
spec:
  selector:
    matchLabels: { app: ${name} }
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "100%" }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 0
      tolerations:
        - operator: Exists
      containers:
        - name: app
          image: ${PAUSE}
          imagePullPolicy: IfNotPresent
`;

interface PodInfo {
  metadata: { deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; containerStatuses?: { ready: boolean; state: { running?: object } }[] };
}

/** True when a Running pod with `image` (and its container running) exists on every node. */
function runningEverywhere(selector: string, image: string): boolean {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    kubeconfigFile,
    "get",
    "pods",
    "-n",
    "default",
    "-l",
    selector,
    "-o",
    "json",
  ]);
  if (!r.ok) {
    return false;
  }
  const items = (JSON.parse(r.out.slice(r.out.indexOf("{"))) as { items: PodInfo[] }).items;
  const onNodes = new Set(
    items
      .filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status.phase === "Running" &&
          p.spec.containers[0]?.image === image &&
          p.status.containerStatuses?.[0]?.state.running !== undefined,
      )
      .map((p) => p.spec.nodeName),
  );
  return nodes().every((n) => onNodes.has(n));
}

async function setImage(ds: string, image: string): Promise<void> {
  kubectl("set", "image", `daemonset/${ds}`, `app=${image}`);
  await waitFor(`${ds} running ${image} on every node`, 900_000, () =>
    runningEverywhere(`app=${ds}`, image),
  );
}

function nodeRmi(refs: string[]): void {
  for (const node of nodes()) {
    tryRun("docker", ["exec", node, "crictl", "rmi", ...refs]);
  }
}

async function deliverKind(tag: string): Promise<Sample> {
  const t0 = Date.now();
  run("kind", ["load", "docker-image", tag, "--name", CLUSTER]);
  const t1 = Date.now();
  await setImage("bench-kind", tag);
  const t2 = Date.now();
  return { total: secs(t2 - t0), transfer: secs(t1 - t0), rollout: secs(t2 - t1) };
}

async function deliverRegistry(tag: string): Promise<Sample> {
  const t0 = Date.now();
  run("docker", ["push", "-q", tag]);
  const digest = run("docker", ["image", "inspect", "-f", "{{index .RepoDigests 0}}", tag]).trim();
  const t1 = Date.now();
  await setImage("bench-reg", digest);
  const t2 = Date.now();
  return { total: secs(t2 - t0), transfer: secs(t1 - t0), rollout: secs(t2 - t1), ref: digest };
}

async function bench1(results: Results): Promise<void> {
  log("benchmark 1: creating the 1+1 cluster with pulumi up");
  await up();
  kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
  apply(DS("bench-kind") + "---\n" + DS("bench-reg"));
  await waitFor(
    "baseline DaemonSets",
    300_000,
    () => runningEverywhere("app=bench-kind", PAUSE) && runningEverywhere("app=bench-reg", PAUSE),
  );
  const regHost = `localhost:${registryPort}`;
  for (const size of SIZES) {
    for (let r = 0; r < RUNS1; r++) {
      const id = `${size}m-r${r}-${Date.now() % 100000}`;
      log(`benchmark 1: ${size} MiB run ${r + 1}/${RUNS1}: building images`);
      const kindImg = buildPair(`kdev-bench/kind-${id}`, size);
      const regImg = buildPair(`${regHost}/bench/reg-${id}`, size);
      const bytes = imageBytes(kindImg.cold);
      // Alternate which method goes first, so neither always runs on a warmer page cache.
      const order: ("kind" | "registry")[] =
        r % 2 === 0 ? ["kind", "registry"] : ["registry", "kind"];
      for (const mode of ["cold", "incremental"] as const) {
        for (const method of order) {
          const tag = method === "kind" ? kindImg : regImg;
          const ref = mode === "cold" ? tag.cold : tag.incr;
          const s = method === "kind" ? await deliverKind(ref) : await deliverRegistry(ref);
          s.bytes = bytes;
          results.delivery.push({ size, mode, method, run: r, ...s });
          log(
            `  ${size} MiB ${mode} ${method}: ${s.total}s (transfer ${s.transfer}s, rollout ${s.rollout}s)`,
          );
        }
      }
      if (size === Math.max(...SIZES)) {
        // Where kind load spends its time: docker save alone (kind load = save + ctr import per node).
        const tar = path.join(workDir, "save.tar");
        const t0 = Date.now();
        run("docker", ["save", "-o", tar, kindImg.incr]);
        const saveS = secs(Date.now() - t0);
        rmSync(tar, { force: true });
        results.split.push({ size, run: r, dockerSave: saveS });
        log(`  docker save of the ${size} MiB incremental image alone: ${saveS}s`);
      }
      // Back to the baseline, then free the nodes' and the host's disk for the next run.
      await setImage("bench-kind", PAUSE);
      await setImage("bench-reg", PAUSE);
      const digests = results.delivery
        .filter((d) => d.size === size && d.run === r && d.method === "registry" && d.ref)
        .map((d) => d.ref as string);
      nodeRmi([`docker.io/${kindImg.cold}`, `docker.io/${kindImg.incr}`, ...digests]);
      tryRun("docker", ["rmi", "-f", kindImg.cold, kindImg.incr, regImg.cold, regImg.incr]);
    }
  }
  log("benchmark 1: pulumi destroy");
  await destroy();
}

// ---------------------------------------------------------------------------------------------
// Benchmark 2: cluster recreation with empty vs warm cache

function workload(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: w${i}
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: { app: w${i} }
  template:
    metadata:
      labels: { app: w${i}, bench: workload }
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: app
          image: docker.io/library/bench-app${i}:1
`);
  }
  return docs.join("---\n");
}

function workloadRunning(n: number): boolean {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    kubeconfigFile,
    "get",
    "pods",
    "-n",
    "default",
    "-l",
    "bench=workload",
    "-o",
    'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.labels.app}{"\\n"}{end}',
  ]);
  if (!r.ok) {
    return false;
  }
  return new Set(r.out.split("\n").filter((l) => /^w\d+$/.test(l))).size === n;
}

function containerPid(name: string): string {
  return run("docker", ["inspect", "-f", "{{.State.Pid}}", name]).trim();
}

/** Seconds to GET `bytes` of a blob from the upstream through its (limited) link. */
function timedBlobFetch(repo: string, bytes: number): number {
  const manifest = JSON.parse(
    run("curl", [
      "-fsS",
      "-H",
      "Accept: application/vnd.docker.distribution.manifest.v2+json",
      `http://127.0.0.1:${upstreamPort}/v2/${repo}/manifests/1`,
    ]),
  ) as { layers: { digest: string; size: number }[] };
  const big = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const t0 = Date.now();
  run("curl", [
    "-fsS",
    "-o",
    "/dev/null",
    "-r",
    `0-${bytes - 1}`,
    `http://127.0.0.1:${upstreamPort}/v2/${repo}/blobs/${big.digest}`,
  ]);
  return (Date.now() - t0) / 1000;
}

async function bench2(results: Results): Promise<void> {
  log(`benchmark 2: ${B2_IMAGES} images, ${B2_TOTAL} MiB in total, into the upstream`);
  const each = B2_TOTAL / B2_IMAGES;
  for (let i = 0; i < B2_IMAGES; i++) {
    const dir = mkdtempSync(path.join(workDir, "up-"));
    const files = ["a", "b"];
    for (const f of files) {
      randomFile(path.join(dir, f), each / 2);
    }
    const ref = `127.0.0.1:${upstreamPort}/library/bench-app${i}:1`;
    buildImage(dir, files, ref);
    rmSync(dir, { recursive: true, force: true });
    run("docker", ["push", "-q", ref]);
    tryRun("docker", ["rmi", "-f", ref]);
  }
  // The stand-in for the internet: a token bucket on the upstream's egress.
  const before = timedBlobFetch("library/bench-app0", 16 * 1048576);
  run("nsenter", [
    "-t",
    containerPid(UPSTREAM),
    "-n",
    "tc",
    "qdisc",
    "add",
    "dev",
    "eth0",
    "root",
    "tbf",
    "rate",
    RATE,
    "burst",
    "256kb",
    "latency",
    "50ms",
  ]);
  const after = timedBlobFetch("library/bench-app0", 16 * 1048576);
  const mbit = (s: number) => Math.round(((16 * 8 * 1048576) / s / 1e6) * 10) / 10;
  results.linkCheck = { rate: RATE, unlimitedMbit: mbit(before), limitedMbit: mbit(after) };
  log(`  upstream link: ${mbit(before)} Mbit/s unlimited, ${mbit(after)} Mbit/s with tc ${RATE}`);

  for (let r = 0; r < RUNS2; r++) {
    for (const mode of ["cold", "warm"] as const) {
      if (mode === "cold") {
        // Empty cache: the component recreates the cache container on its new, empty volume.
        const c = resolved().caches[0];
        if (c) {
          removeContainer(c.spec.name, c.spec.volume);
        }
      }
      log(`benchmark 2: run ${r + 1}/${RUNS2} ${mode}: pulumi up + workload`);
      const t0 = Date.now();
      await up();
      const t1 = Date.now();
      apply(workload(B2_IMAGES));
      await waitFor("workload running", 1_800_000, () => workloadRunning(B2_IMAGES), 500);
      const t2 = Date.now();
      results.recreate.push({
        mode,
        run: r,
        total: secs(t2 - t0),
        up: secs(t1 - t0),
        pods: secs(t2 - t1),
      });
      log(`  ${mode}: ${secs(t2 - t0)}s (pulumi up ${secs(t1 - t0)}s, pods ${secs(t2 - t1)}s)`);
      await destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Benchmark 3: engine overhead

async function bench3(results: Results): Promise<void> {
  const cfg = resolved();
  const kindConfigFile = path.join(workDir, "kind-config.yaml");
  writeFileSync(kindConfigFile, cfg.kindConfig);
  const barePort = await freePort();
  const bare = async (): Promise<number> => {
    const t0 = Date.now();
    run("docker", ["volume", "create", `${BARE_REGISTRY}-data`]);
    run("docker", [
      "run",
      "--detach",
      "--name",
      BARE_REGISTRY,
      "--restart",
      "always",
      "--network",
      NETWORK,
      "--volume",
      `${BARE_REGISTRY}-data:/var/lib/registry`,
      "--env",
      "REGISTRY_STORAGE_DELETE_ENABLED=true",
      "--publish",
      `127.0.0.1:${barePort}:5000`,
      "registry:2",
    ]);
    await waitFor(
      "bare registry",
      60_000,
      () => tryRun("curl", ["-fsS", "-o", "/dev/null", `http://127.0.0.1:${barePort}/v2/`]).ok,
    );
    run("kind", ["create", "cluster", "--name", CLUSTER, "--config", kindConfigFile], {
      env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: NETWORK },
    });
    const t = Date.now() - t0;
    run("kind", ["delete", "cluster", "--name", CLUSTER]);
    removeContainer(BARE_REGISTRY, `${BARE_REGISTRY}-data`);
    return secs(t);
  };
  const pulumiFromNothing = async (): Promise<{ up: number; noop: number }> => {
    removeRegistryAndCache();
    const t0 = Date.now();
    await up(true);
    const t1 = Date.now();
    results.upTimings?.push(lastTimings);
    const changes = await upChanges();
    const t2 = Date.now();
    if (Object.keys(changes).length > 0) {
      log(`  warning: second pulumi up made changes: ${JSON.stringify(changes)}`);
      results.notes.push(
        `benchmark 3: a second pulumi up made changes: ${JSON.stringify(changes)}`,
      );
    }
    await destroy();
    removeRegistryAndCache();
    return { up: secs(t1 - t0), noop: secs(t2 - t1) };
  };
  for (let r = 0; r < RUNS3; r++) {
    const order = r % 2 === 0 ? ["pulumi", "bare"] : ["bare", "pulumi"];
    for (const which of order) {
      log(`benchmark 3: run ${r + 1}/${RUNS3}: ${which}`);
      if (which === "bare") {
        const t = await bare();
        results.overhead.push({ what: "bare", run: r, total: t });
        log(`  bare kind create + registry: ${t}s`);
      } else {
        const t = await pulumiFromNothing();
        results.overhead.push({ what: "pulumi-up", run: r, total: t.up });
        results.overhead.push({ what: "pulumi-up-nochange", run: r, total: t.noop });
        log(`  pulumi up from nothing: ${t.up}s; no-change pulumi up: ${t.noop}s`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  cleanupAll();
  registryPort = await freePort();
  upstreamPort = await freePort();
  workDir = mkdtempSync(path.join(os.tmpdir(), "kdev-bench-"));
  backend = path.join(workDir, "backend");
  mkdirSync(backend);
  kubeconfigFile = path.join(workDir, "kubeconfig");
  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? "?",
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      docker: run("docker", ["version", "-f", "{{.Server.Version}}"]).trim(),
      kind: run("kind", ["version"]).trim(),
      pulumi: run("pulumi", ["version"]).trim(),
      nodeImage: NODE_IMAGE,
      kernel: os.release(),
    },
    runs: { bench1: RUNS1, bench2: RUNS2, bench3: RUNS3 },
    sizes: SIZES,
    bench2: { images: B2_IMAGES, totalMiB: B2_TOTAL, rate: RATE },
    delivery: [],
    split: [],
    recreate: [],
    overhead: [],
    notes: [],
    upTimings: [],
    totalSeconds: 0,
  };
  const save = () => {
    results.totalSeconds = secs(Date.now() - started);
    mkdirSync(OUT, { recursive: true });
    writeReport(results, OUT);
  };
  try {
    run("docker", ["network", "create", NETWORK]);
    await startUpstream();
    process.env["PATH"] = TOOLS_ENV["PATH"];
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: STACK, workDir: REPO_DIR },
      { pulumiCommand, envVars: pulumiEnv(backend, `${WRAPPER_DIR}:`) },
    );
    await stack.setAllConfig({
      "kind-dev:clusterName": { value: CLUSTER },
      "kind-dev:workers": { value: "1" },
      "kind-dev:nodeImage": { value: NODE_IMAGE },
      "kind-dev:networkName": { value: NETWORK },
      "kind-dev:registryName": { value: REGISTRY },
      "kind-dev:registryPort": { value: String(registryPort) },
      "kind-dev:caches": {
        value: JSON.stringify([
          { upstreamHost: "docker.io", remoteUrl: `http://${UPSTREAM}:5000`, containerName: CACHE },
        ]),
      },
    });
    if (ONLY.includes("3")) {
      await bench3(results);
      save();
    }
    if (ONLY.includes("1")) {
      await bench1(results);
      save();
    }
    if (ONLY.includes("2")) {
      await bench2(results);
      save();
    }
  } catch (e) {
    results.notes.push(`the run failed: ${String(e).slice(0, 500)}`);
    console.error(e);
    process.exitCode = 1;
  } finally {
    save();
    log("cleaning up");
    if (stack) {
      await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${STACK}.yaml`), { force: true });
    cleanupAll();
    rmSync(workDir, { recursive: true, force: true });
    log(`done in ${secs(Date.now() - started)}s; results in ${OUT}`);
  }
}

void main();
