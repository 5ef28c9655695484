/** Benchmark 2: cluster recreation with an empty vs a warm pull-through cache. */
import { mkdtempSync, rmSync } from "node:fs";
import * as path from "node:path";
import { run, tryRun } from "../support/bed";
import {
  waitFor,
  RUNS2,
  RATE,
  B2_IMAGES,
  B2_TOTAL,
  UPSTREAM,
  log,
  secs,
  state,
  resolved,
  apply,
  up,
  destroy,
  removeContainer,
  nodes,
} from "./context";
import { randomFile, buildImage } from "./images";
import { inspectTool, markerServed, pushMarker } from "./features";
import { type Results } from "./report";

// Benchmark 2: cluster recreation with empty vs warm cache

export function workload(n: number): string {
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

export function workloadRunning(n: number, kubeconfig = state.kubeconfigFile): boolean {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    kubeconfig,
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

export function containerPid(name: string): string {
  return run("docker", ["inspect", "-f", "{{.State.Pid}}", name]).trim();
}

function upstreamManifest(repo: string): {
  layers: { digest: string; size: number }[];
  config: { size: number };
} {
  return JSON.parse(
    run("curl", [
      "-fsS",
      "-H",
      "Accept: application/vnd.docker.distribution.manifest.v2+json",
      `http://127.0.0.1:${state.upstreamPort}/v2/${repo}/manifests/1`,
    ]),
  ) as { layers: { digest: string; size: number }[]; config: { size: number } };
}

/** GETs the largest blob of `repo` from the upstream through its link: bytes and seconds. */
export function timedBlobFetch(repo: string): { bytes: number; seconds: number } {
  const big = upstreamManifest(repo).layers.reduce((a, b) => (b.size > a.size ? b : a));
  const t0 = Date.now();
  run("curl", [
    "-fsS",
    "-o",
    "/dev/null",
    `http://127.0.0.1:${state.upstreamPort}/v2/${repo}/blobs/${big.digest}`,
  ]);
  return { bytes: big.size, seconds: (Date.now() - t0) / 1000 };
}

/** Bytes the upstream has sent so far on its (limited) link: its egress qdisc's counter. */
export function upstreamSentBytes(): number {
  const out = run("nsenter", [
    "-t",
    containerPid(UPSTREAM),
    "-n",
    "tc",
    "-s",
    "qdisc",
    "show",
    "dev",
    "eth0",
  ]);
  const m = /Sent (\d+) bytes/.exec(out);
  return m ? Number(m[1]) : NaN;
}

/**
 * Fills the upstream (the Docker Hub stand-in) with benchmark 2's workload and limits its link
 * with a token bucket on its egress; measures the link with a timed blob fetch before and after.
 * Once per run: benchmarks 2 and 4 share it.
 */
export function prepareUpstream(results: Results): void {
  if (state.upstreamReady) {
    return;
  }
  log(`upstream: ${B2_IMAGES} images, ${B2_TOTAL} MiB in total`);
  const each = B2_TOTAL / B2_IMAGES;
  for (let i = 0; i < B2_IMAGES; i++) {
    const dir = mkdtempSync(path.join(state.workDir, "up-"));
    const files = ["a", "b"];
    for (const f of files) {
      randomFile(path.join(dir, f), each / 2);
    }
    const ref = `127.0.0.1:${state.upstreamPort}/library/bench-app${i}:1`;
    buildImage(dir, files, ref);
    rmSync(dir, { recursive: true, force: true });
    run("docker", ["push", "-q", ref]);
    tryRun("docker", ["rmi", "-f", ref]);
  }
  // What the nodes must fetch at the least: every blob of the workload's images, once.
  let workloadBytes = 0;
  for (let i = 0; i < B2_IMAGES; i++) {
    const m = upstreamManifest(`library/bench-app${i}`);
    workloadBytes += m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
  }
  results.bench2.workloadBytes = workloadBytes;
  // The stand-in for the internet: a token bucket on the upstream's egress.
  const before = timedBlobFetch("library/bench-app0");
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
  const after = timedBlobFetch("library/bench-app1");
  const mbit = (f: { bytes: number; seconds: number }) =>
    Math.round(((f.bytes * 8) / f.seconds / 1e6) * 10) / 10;
  results.linkCheck = {
    rate: RATE,
    unlimitedMbit: mbit(before),
    limitedMbit: mbit(after),
    blobBytes: after.bytes,
  };
  log(
    `  upstream link: ${mbit(before)} Mbit/s unlimited, ${mbit(after)} Mbit/s with tc ${RATE} (${after.bytes} B blob)`,
  );
  state.upstreamReady = true;
}

export async function bench2(results: Results): Promise<void> {
  prepareUpstream(results);
  log(`benchmark 2: ${B2_IMAGES} images, ${B2_TOTAL} MiB in total, from the upstream`);
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
      const sent0 = upstreamSentBytes();
      const t0 = Date.now();
      await up();
      const t1 = Date.now();
      apply(workload(B2_IMAGES));
      await waitFor("workload running", 1_800_000, () => workloadRunning(B2_IMAGES), 500);
      const t2 = Date.now();
      if (r === 0 && mode === "warm") {
        // The cluster was destroyed and made again since the marker was pushed.
        const f = results.features.find((x) => x.tool === "pulumi-kind-dev");
        if (f) {
          f.keptAcrossClusterDeletion = markerServed(state.registryPort);
          f.deletedWith = "`pulumi destroy`, then `pulumi up`";
        }
      }
      const upstreamBytes = upstreamSentBytes() - sent0;
      results.recreate.push({
        mode,
        run: r,
        total: secs(t2 - t0),
        up: secs(t1 - t0),
        pods: secs(t2 - t1),
        upstreamBytes,
      });
      log(
        `  ${mode}: ${secs(t2 - t0)}s (pulumi up ${secs(t1 - t0)}s, pods ${secs(t2 - t1)}s); upstream sent ${upstreamBytes} B`,
      );
      if (r === 0 && mode === "cold") {
        // Benchmark 4's feature table: what the component set up, and whether the registry's
        // content outlives the cluster (pulumi destroy keeps the registry: retainOnDestroy).
        results.features.push(
          inspectTool(
            "pulumi-kind-dev",
            resolved().registry.spec.name,
            nodes(),
            state.kubeconfigFile,
          ),
        );
        pushMarker(state.registryPort);
      }
      await destroy();
    }
  }
}
