/**
 * Benchmarks for pulumi-kind-dev. Run with `npm run bench` (test/bench/run.sh), which prepares the
 * test bed first. Every timed run of the component is `npm run up` as users run it, traced by the
 * engine (`pulumi up --otel-traces`), against real kind clusters built from the bed's node image and
 * local registries only. Everything it makes is named kdev-bench* and removed at the end, also on
 * failure.
 *
 *   1. image delivery: `kind load docker-image` vs `docker push` to the component's registry
 *   2. cluster recreation with an empty vs a warm pull-through cache (bandwidth-limited upstream)
 *   3. the everyday path: `npm run up` from nothing and with no change, next to bare `kind create
 *      cluster` + registry and ctlptl from nothing, in rotating order
 *   4. ctlptl's recreation with the same workload over the same link, and what each tool set up
 *
 * The knobs (BENCH_* environment variables, read in context.ts) are listed in docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, REPO_DIR, run, tryRun } from "../support/bed";
import * as ctx from "./context";
import { bench1 } from "./delivery";
import { bench2 } from "./recreate";
import { bench3 } from "./overhead";
import { bench4 } from "./ctlptl";
import { type Results, writeReport } from "./report";

const first = (s: string) => s.trim().split("\n")[0] ?? "";
const npmVersion = (pkg: string) =>
  (
    JSON.parse(readFileSync(path.join(REPO_DIR, "node_modules", pkg, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

/** Every version a reader needs to repeat the run. */
function environment(): Results["environment"] {
  const registryImage = ctx.resolved().registry.spec.image;
  const plugins = tryRun("pulumi", ["plugin", "ls"]).out;
  const plugin = (name: string) =>
    new RegExp(`^${name}\\s+resource\\s+(\\S+)`, "m").exec(plugins)?.[1] ?? "?";
  return {
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, kernel ${os.release()}`,
    Docker: first(run("docker", ["version", "-f", "{{.Server.Version}}"])),
    "registry image": `${registryImage} (${first(tryRun("docker", ["run", "--rm", "--network", "none", registryImage, "--version"]).out).replace(/^\S*registry /, "")})`,
    kind: first(run("kind", ["version"])),
    "node image": `${ctx.NODE_IMAGE} (${first(run("docker", ["image", "inspect", "-f", "{{.Id}}", ctx.NODE_IMAGE])).slice(7, 19)})`,
    "Pulumi CLI": first(run("pulumi", ["version"])),
    "language host": "?",
    "command plugin": plugin("command"),
    "kubernetes plugin": plugin("kubernetes"),
    Node: process.version,
    "@pulumi/pulumi": npmVersion("@pulumi/pulumi"),
    "@swc/core": npmVersion("@swc/core"),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  ctx.cleanupAll();
  ctx.state.registryPort = await freePort();
  ctx.state.upstreamPort = await freePort();
  ctx.state.workDir = mkdtempSync(path.join(os.tmpdir(), "kdev-bench-"));
  ctx.state.backend = path.join(ctx.state.workDir, "backend");
  ctx.state.kubeconfigFile = path.join(ctx.state.workDir, "kubeconfig");
  mkdirSync(ctx.state.backend);
  const results: Results = {
    date: new Date().toISOString(),
    smoke: ctx.SMOKE,
    only: ctx.ONLY,
    runs: ctx.RUNS,
    sizes: ctx.SIZES,
    workload: { images: ctx.WORKLOAD_IMAGES, mib: ctx.WORKLOAD_MIB, rate: ctx.RATE },
    environment: environment(),
    ups: [],
    samples: [],
    features: [],
    notes: [],
    totalSeconds: 0,
  };
  const save = () => {
    results.totalSeconds = ctx.secs(Date.now() - started);
    results.environment["language host"] = results.ups[0]?.trace.languageHost ?? "?";
    mkdirSync(ctx.OUT, { recursive: true });
    writeReport(results, ctx.OUT);
  };
  try {
    run("docker", ["network", "create", ctx.NETWORK]);
    await ctx.startUpstream();
    ctx.createStack();
    const benches: [string, (r: Results) => Promise<void>][] = [
      ["3", bench3],
      ["1", bench1],
      ["2", bench2],
      ["4", bench4],
    ];
    for (const [id, bench] of benches.filter(([id]) => ctx.ONLY.includes(id))) {
      await bench(results);
      ctx.log(`benchmark ${id} done`);
      save();
    }
  } catch (e) {
    results.notes.push(`the run failed: ${String(e).slice(0, 500)}`);
    console.error(e);
    process.exitCode = 1;
  } finally {
    save();
    ctx.log("cleaning up");
    ctx.cleanupAll();
    rmSync(ctx.stackFile(), { force: true });
    rmSync(ctx.state.workDir, { recursive: true, force: true });
    ctx.log(`done in ${ctx.secs(Date.now() - started)}s; results in ${ctx.OUT}`);
  }
}

void main();
