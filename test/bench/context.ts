/**
 * What every benchmark shares: the knobs (environment variables, see bench.ts), the names of what
 * the run creates, its state, and the timed commands: `npm run up` as users run it, traced.
 */
import { writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveConfig } from "../../components/config";
import {
  npmRunUp,
  pulumiEnv,
  REPO_DIR,
  run,
  startRegistryStandIn,
  TOOLS_ENV,
  tryRun,
  WRAPPER_DIR,
} from "../support/bed";
import { upTrace, type UpTrace } from "./trace";

/** Polls every 250 ms: the timings below are only as fine as this. */
export { waitFor } from "../support/bed";

const env = (name: string, smoke: string, full: string) =>
  process.env[name] || (SMOKE ? smoke : full);
/** BENCH_SMOKE=1: every benchmark once and small, written to a temp dir unless BENCH_OUT is set. */
export const SMOKE = process.env["BENCH_SMOKE"] === "1";
export const RUNS = Number(env("BENCH_RUNS", "1", "3"));
export const ONLY = env("BENCH_ONLY", "1,2,3,4", "1,2,3,4").split(",");
export const SIZES = env("BENCH_SIZES", "100", "100,500,1024").split(",").map(Number);
export const RATE = env("BENCH_RATE", "100mbit", "100mbit");
export const WORKLOAD_IMAGES = Number(env("BENCH_WORKLOAD_IMAGES", "2", "5"));
export const WORKLOAD_MIB = Number(env("BENCH_WORKLOAD_MIB", "100", "1024"));
export const OUT = path.resolve(
  REPO_DIR,
  env("BENCH_OUT", path.join(os.tmpdir(), "kdev-bench-smoke"), "docs/bench"),
);
export const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
export const PAUSE = "registry.k8s.io/pause:3.10";

// Every name starts with kdev-bench: no other suite uses that prefix.
export const CLUSTER = "kdev-bench";
export const NETWORK = "kdev-bench";
export const REGISTRY = "kdev-bench-registry";
export const CACHE = "kdev-bench-cache-docker-io";
export const UPSTREAM = "kdev-bench-upstream";
export const BARE_REGISTRY = "kdev-bench-bare-registry";
export const CTLPTL_CLUSTER = "kdev-bench-ctlptl";
export const CTLPTL_REGISTRY = "kdev-bench-ctlptl-registry";
export const MARKER_REPO = "kdev-bench-marker";
export const STACK = `kdev-bench-${process.pid}`;

export const log = (msg: string) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
export const secs = (ms: number) => Math.round(ms) / 1000;

export const state = {
  backend: "",
  kubeconfigFile: "",
  // Set by main() to a free port; any valid one until then (cleanup resolves names only).
  registryPort: 5999,
  upstreamPort: 0,
  workDir: "",
  upstreamReady: false,
  traces: 0,
};

/** The dev stack's settings (its stack file, stacks/dev/Pulumi.<STACK>.yaml). */
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

export const resolved = () => resolveConfig(settings());

function writeStackFile(): void {
  const lines = Object.entries(settings()).map(
    ([k, v]) => `  kind-dev:${k}: ${JSON.stringify(typeof v === "object" ? JSON.stringify(v) : v)}`,
  );
  writeFileSync(stackFile(), `config:\n${lines.join("\n")}\n`);
}
export const stackFile = () => path.join(REPO_DIR, "stacks/dev", `Pulumi.${STACK}.yaml`);

/** What `npm run up` and `npm run down` get: the bed's tools and engine, the bench's stack. */
function upEnv(): NodeJS.ProcessEnv {
  return { ...TOOLS_ENV, ...pulumiEnv(state.backend, `${WRAPPER_DIR}:`), KIND_DEV_STACK: STACK };
}

export interface Up {
  /** `npm run up`, start to exit, as the user waits for it. */
  wall: number;
  /** The summary's lines other than "N unchanged" ("+ 9 created"). */
  changes: string[];
  trace: UpTrace;
}

/** `npm run up` as users run it, traced (`--otel-traces`); then the kubeconfig for kubectl. */
export async function npmUp(): Promise<Up> {
  const file = path.join(state.workDir, `trace-${state.traces++}.json`);
  const t0 = Date.now();
  const r = await npmRunUp({ ...upEnv(), npm_config_loglevel: "silent" }, 900_000, [
    `--otel-traces=file://${file}`,
  ]);
  const wall = secs(Date.now() - t0);
  if (r.code !== 0) {
    throw new Error(`npm run up exited ${r.code}:\n${r.output.slice(-3000)}`);
  }
  writeFileSync(state.kubeconfigFile, run("kind", ["get", "kubeconfig", "--name", CLUSTER]), {
    mode: 0o600,
  });
  const summary = /\nResources:\n([\s\S]*?)\n\s*\n/.exec(r.output)?.[1] ?? "";
  const changes = summary
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.endsWith("unchanged"));
  return { wall, changes, trace: upTrace(file) };
}

/** Creates the bench's stack (untimed: users do it once) from its stack file. */
export function createStack(): void {
  writeStackFile();
  run("pulumi", ["stack", "select", "--create", STACK, "--non-interactive"], {
    cwd: REPO_DIR,
    env: upEnv() as Record<string, string>,
  });
}

export function destroy(): void {
  run("bash", ["stacks/dev/down.sh"], { cwd: REPO_DIR, env: upEnv() as Record<string, string> });
}

export function kubectl(...args: string[]): string {
  return run("kubectl", ["--kubeconfig", state.kubeconfigFile, ...args]);
}

export const tryKubectl = (kubeconfig: string, ...args: string[]) =>
  tryRun("kubectl", ["--kubeconfig", kubeconfig, ...args]);

export function apply(manifest: string, kubeconfig = state.kubeconfigFile): void {
  run("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], { input: manifest });
}

export function removeContainer(name: string, volume?: string): void {
  tryRun("docker", ["rm", "-f", "-v", name]);
  if (volume !== undefined) {
    tryRun("docker", ["volume", "rm", "-f", volume]);
  }
}

export function removeRegistryAndCache(): void {
  const cfg = resolved();
  for (const c of [cfg.registry, ...cfg.caches]) {
    removeContainer(c.spec.name, c.spec.volume);
  }
}

export function cleanupAll(): void {
  for (const c of [CLUSTER, CTLPTL_CLUSTER]) {
    tryRun("kind", ["delete", "cluster", "--name", c]);
  }
  removeContainer(CTLPTL_REGISTRY);
  removeRegistryAndCache();
  removeContainer(BARE_REGISTRY, `${BARE_REGISTRY}-data`);
  removeContainer(UPSTREAM);
  tryRun("docker", ["network", "rm", NETWORK]);
  const mine = tryRun("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"])
    .out.split("\n")
    .filter((i) => /^(kdev-bench\/|(localhost|127\.0\.0\.1):\d+\/(bench|kdev-bench))/.test(i));
  if (mine.length > 0) {
    tryRun("docker", ["rmi", "-f", ...mine]);
  }
}

export const nodes = (cluster = CLUSTER) => [`${cluster}-control-plane`, `${cluster}-worker`];

export const startUpstream = () => startRegistryStandIn(UPSTREAM, NETWORK, state.upstreamPort);
