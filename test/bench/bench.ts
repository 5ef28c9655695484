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
 *   4. ctlptl side by side: from nothing to a ready cluster with its registry, a recreation
 *      with the same workload over the same link, and what each tool set up (feature table)
 *
 * Environment (all optional):
 *   BENCH_SMOKE=1         quick run of every benchmark (1 run, 100 MiB, 2 images of 100 MiB in
 *                         all), written to $TMPDIR/kdev-bench-smoke unless BENCH_OUT is set
 *   BENCH_RUNS=3          runs per measurement (median reported); BENCH1_RUNS ... BENCH4_RUNS
 *                         override it per benchmark
 *   BENCH_ONLY=1,2,3,4    which benchmarks to run
 *   BENCH_SIZES=100,500,1024   image sizes (MiB) for benchmark 1
 *   BENCH_RATE=100mbit    upstream link rate for benchmarks 2 and 4 (tc tbf rate)
 *   BENCH2_IMAGES=5 BENCH2_TOTAL_MIB=1024   workload of benchmarks 2 and 4
 *   BENCH_OUT=docs/bench  where results.json / results.md / chart.png go
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { devStack, freePort, REPO_DIR, run } from "../support/bed";
import {
  NODE_IMAGE,
  RUNS1,
  RUNS2,
  RUNS3,
  RUNS4,
  SMOKE,
  ONLY,
  SIZES,
  RATE,
  B2_IMAGES,
  B2_TOTAL,
  OUT,
  NETWORK,
  STACK,
  log,
  secs,
  settings,
  state,
  cleanupAll,
  startUpstream,
} from "./context";
import { bench1 } from "./delivery";
import { bench2 } from "./recreate";
import { bench3 } from "./overhead";
import { bench4 } from "./ctlptl";
import { type Results, writeReport } from "./report";

async function main(): Promise<void> {
  const started = Date.now();
  cleanupAll();
  state.registryPort = await freePort();
  state.upstreamPort = await freePort();
  state.workDir = mkdtempSync(path.join(os.tmpdir(), "kdev-bench-"));
  state.backend = path.join(state.workDir, "backend");
  mkdirSync(state.backend);
  state.kubeconfigFile = path.join(state.workDir, "kubeconfig");
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
    smoke: SMOKE,
    only: ONLY,
    runs: { bench1: RUNS1, bench2: RUNS2, bench3: RUNS3, bench4: RUNS4 },
    sizes: SIZES,
    bench2: { images: B2_IMAGES, totalMiB: B2_TOTAL, rate: RATE },
    delivery: [],
    split: [],
    recreate: [],
    overhead: [],
    ctlptl: [],
    features: [],
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
    state.stack = await devStack(STACK, state.backend, settings());
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
    if (ONLY.includes("4")) {
      await bench4(results);
      save();
    }
  } catch (e) {
    results.notes.push(`the run failed: ${String(e).slice(0, 500)}`);
    console.error(e);
    process.exitCode = 1;
  } finally {
    save();
    log("cleaning up");
    if (state.stack) {
      await state.stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
      await state.stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${STACK}.yaml`), { force: true });
    cleanupAll();
    rmSync(state.workDir, { recursive: true, force: true });
    log(`done in ${secs(Date.now() - started)}s; results in ${OUT}`);
  }
}

void main();
