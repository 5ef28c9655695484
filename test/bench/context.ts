/**
 * What every benchmark shares: the knobs (environment variables, see bench.ts), the names of
 * what it creates, the run's state (stack, ports, work directory) and the steps on them.
 */
import { writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Stack } from "@pulumi/pulumi/automation";
import { resolveConfig } from "../../components/config";
import { REPO_DIR, run, startRegistryStandIn, tryRun } from "../support/bed";

/** Polls every 250 ms: the timings below are only as fine as this. */
export { waitFor } from "../support/bed";

export const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
export const PAUSE = "registry.k8s.io/pause:3.10";
export const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number.parseInt(v, 10);
};
/**
 * BENCH_SMOKE=1: every benchmark once, small (1 run, 100 MiB images, 2 workload images of 100 MiB
 * in all), written to a temp dir unless BENCH_OUT says otherwise; each knob below still wins.
 */
export const SMOKE = process.env["BENCH_SMOKE"] === "1";
export const RUNS = envInt("BENCH_RUNS", SMOKE ? 1 : 3);
export const RUNS1 = envInt("BENCH1_RUNS", RUNS);
export const RUNS2 = envInt("BENCH2_RUNS", RUNS);
export const RUNS3 = envInt("BENCH3_RUNS", RUNS);
export const RUNS4 = envInt("BENCH4_RUNS", RUNS);
export const ONLY = (process.env["BENCH_ONLY"] ?? "1,2,3,4").split(",").map((s) => s.trim());
export const SIZES = (process.env["BENCH_SIZES"] ?? (SMOKE ? "100" : "100,500,1024"))
  .split(",")
  .map(Number);
export const RATE = process.env["BENCH_RATE"] ?? "100mbit";
export const B2_IMAGES = envInt("BENCH2_IMAGES", SMOKE ? 2 : 5);
export const B2_TOTAL = envInt("BENCH2_TOTAL_MIB", SMOKE ? 100 : 1024);
export const OUT = path.resolve(
  REPO_DIR,
  process.env["BENCH_OUT"] ?? (SMOKE ? path.join(os.tmpdir(), "kdev-bench-smoke") : "docs/bench"),
);

export const CLUSTER = "kdev-bench";
export const NETWORK = "kdev-bench";
export const REGISTRY = "kdev-bench-registry";
export const CACHE = "kdev-bench-cache-docker-io";
export const UPSTREAM = "kdev-bench-upstream";
export const BARE_REGISTRY = "kdev-bench-bare-registry";
/** ctlptl's kind cluster (ctlptl names it kind-kdev-bench-ctlptl) and its registry. */
export const CTLPTL_CLUSTER = "kdev-bench-ctlptl";
export const CTLPTL_REGISTRY = "kdev-bench-ctlptl-registry";
/** The image benchmark 4 pushes to each tool's registry before deleting its cluster. */
export const MARKER_REPO = "kdev-bench-marker";
export const STACK = `bench-${process.pid}`;

export function log(msg: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

export const secs = (ms: number) => Math.round(ms) / 1000;

// ---------------------------------------------------------------------------------------------
// Stack, cluster and cleanup

/** What one run of the benchmarks shares; set up by main(). */
export const state: {
  backend: string;
  kubeconfigFile: string;
  stack: Stack | undefined;
  registryPort: number;
  upstreamPort: number;
  workDir: string;
  /** Per-resource [start, end] seconds of the last `up` with timings, from the engine's events. */
  lastTimings: Record<string, [number, number]>;
  /** Set once the upstream holds benchmark 2's workload and its link is limited. */
  upstreamReady: boolean;
} = {
  backend: "",
  kubeconfigFile: "",
  stack: undefined,
  registryPort: 5999,
  upstreamPort: 0,
  workDir: "",
  lastTimings: {},
  upstreamReady: false,
};

/** The dev stack's settings for the benchmarks' environment (set on the stack by main()). */
export function settings() {
  return {
    clusterName: CLUSTER,
    workers: 1,
    nodeImage: NODE_IMAGE,
    networkName: NETWORK,
    registryName: REGISTRY,
    registryPort: state.registryPort,
    caches: [
      { upstreamHost: "docker.io", remoteUrl: `http://${UPSTREAM}:5000`, containerName: CACHE },
    ],
  };
}

/** What the component makes of those settings (names, volumes, the kind config's input). */
export function resolved() {
  return resolveConfig(settings());
}

export function kubectl(...args: string[]): string {
  return run("kubectl", ["--kubeconfig", state.kubeconfigFile, ...args]);
}

export function apply(manifest: string, kubeconfig = state.kubeconfigFile): void {
  run("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], { input: manifest });
}

export async function up(timings = false): Promise<void> {
  if (!state.stack) {
    throw new Error("no stack");
  }
  const t0 = Date.now();
  const spans: Record<string, [number, number]> = {};
  const r = await state.stack.up({
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
    state.lastTimings = spans;
  }
  if (r.summary.result !== "succeeded") {
    throw new Error(`pulumi up: ${r.summary.result}`);
  }
  const outputs = await state.stack.outputs();
  writeFileSync(state.kubeconfigFile, String(outputs["kubeconfig"]?.value), { mode: 0o600 });
}

export async function upChanges(): Promise<Record<string, number>> {
  if (!state.stack) {
    throw new Error("no stack");
  }
  const r = await state.stack.up({ onOutput: () => undefined });
  return Object.fromEntries(
    Object.entries(r.summary.resourceChanges ?? {}).filter(([op]) => op !== "same"),
  ) as Record<string, number>;
}

export async function destroy(): Promise<void> {
  if (!state.stack) {
    return;
  }
  await state.stack.destroy({ onOutput: () => undefined });
}

export function removeContainer(name: string, volume?: string): void {
  tryRun("docker", ["rm", "-f", "-v", name]);
  if (volume) {
    tryRun("docker", ["volume", "rm", "-f", volume]);
  }
}

export function removeRegistryAndCache(): void {
  const cfg = resolved();
  removeContainer(REGISTRY, cfg.registry.spec.volume);
  for (const c of cfg.caches) {
    removeContainer(c.spec.name, c.spec.volume);
  }
}

export function cleanupAll(): void {
  tryRun("kind", ["delete", "cluster", "--name", CLUSTER]);
  tryRun("kind", ["delete", "cluster", "--name", CTLPTL_CLUSTER]);
  removeContainer(CTLPTL_REGISTRY);
  removeRegistryAndCache();
  removeContainer(BARE_REGISTRY, `${BARE_REGISTRY}-data`);
  removeContainer(UPSTREAM);
  tryRun("docker", ["network", "rm", NETWORK]);
  const imgs = tryRun("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"]).out.split("\n");
  const mine = imgs.filter(
    (i) =>
      i.startsWith("kdev-bench/") ||
      /^(localhost|127\.0\.0\.1):\d+\/(bench|library\/bench|kdev-bench)/.test(i),
  );
  if (mine.length > 0) {
    tryRun("docker", ["rmi", "-f", ...mine]);
  }
}

export function nodes(cluster = CLUSTER): string[] {
  return [`${cluster}-control-plane`, `${cluster}-worker`];
}

export function startUpstream(): Promise<void> {
  return startRegistryStandIn(UPSTREAM, NETWORK, state.upstreamPort);
}
