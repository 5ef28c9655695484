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
} from "./context";
import { randomFile, buildImage } from "./images";
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

export function workloadRunning(n: number): boolean {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    state.kubeconfigFile,
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

/** Seconds to GET `bytes` of a blob from the upstream through its (limited) link. */
export function timedBlobFetch(repo: string, bytes: number): number {
  const manifest = JSON.parse(
    run("curl", [
      "-fsS",
      "-H",
      "Accept: application/vnd.docker.distribution.manifest.v2+json",
      `http://127.0.0.1:${state.upstreamPort}/v2/${repo}/manifests/1`,
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
    `http://127.0.0.1:${state.upstreamPort}/v2/${repo}/blobs/${big.digest}`,
  ]);
  return (Date.now() - t0) / 1000;
}

export async function bench2(results: Results): Promise<void> {
  log(`benchmark 2: ${B2_IMAGES} images, ${B2_TOTAL} MiB in total, into the upstream`);
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
