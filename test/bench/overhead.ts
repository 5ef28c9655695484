/**
 * Benchmark 3, the everyday path: `npm run up` from nothing, then with no change, next to bare
 * `docker run` registry + `kind create cluster` (same image, same kind config) and ctlptl making
 * the same cluster with its registry, rotating the order every round.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderKindConfig } from "../../components/render/kindConfig";
import { freePort, REPO_DIR, run, runAsync, tryRun } from "../support/bed";
import * as ctx from "./context";
import { ctlptlFromNothing } from "./ctlptl";
import { type Results } from "./report";

async function bare(
  kindConfig: string,
  port: number,
): Promise<{ total: number; registry: number; kind: number }> {
  const t0 = Date.now();
  const volume = `${ctx.BARE_REGISTRY}-data:/var/lib/registry`;
  run("docker", [
    ...["run", "--detach", "--name", ctx.BARE_REGISTRY, "--restart", "always"],
    ...["--network", ctx.NETWORK, "--volume", volume, "--publish", `127.0.0.1:${port}:5000`],
    ctx.resolved().registry.spec.image,
  ]);
  await ctx.waitFor(
    "bare registry",
    60_000,
    () => tryRun("curl", ["-fsS", "-o", "/dev/null", `http://127.0.0.1:${port}/v2/`]).ok,
  );
  const t1 = Date.now();
  run("kind", ["create", "cluster", "--name", ctx.CLUSTER, "--config", kindConfig], {
    env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: ctx.NETWORK },
  });
  const t2 = Date.now();
  run("kind", ["delete", "cluster", "--name", ctx.CLUSTER]);
  ctx.removeContainer(ctx.BARE_REGISTRY, `${ctx.BARE_REGISTRY}-data`);
  return { total: ctx.secs(t2 - t0), registry: ctx.secs(t1 - t0), kind: ctx.secs(t2 - t1) };
}

/** `kind-dev doctor` on the fresh environment: its own wall time; a fault is a note. */
async function doctor(results: Results): Promise<number> {
  ctx.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
  const cli = path.join(REPO_DIR, "dist/doctor/cli.js");
  const args = ["doctor", "--cluster", ctx.CLUSTER, "--kubeconfig", ctx.state.kubeconfigFile];
  const r = await runAsync("node", [cli, ...args, "--json"]);
  if (r.code !== 0 && r.code !== 1) {
    throw new Error(`kind-dev doctor exited ${r.code}: ${r.stderr.slice(-2000)}`);
  }
  const report = JSON.parse(r.stdout) as {
    seconds: number;
    results: { id: string; status: string; detail: string }[];
  };
  const failed = report.results.filter((x) => x.status === "fail");
  if (failed.length > 0) {
    results.notes.push(
      `the doctor found a fault on the fresh environment: ${failed.map((x) => `${x.id} (${x.detail})`).join("; ")}`,
    );
  }
  return report.seconds;
}

export async function bench3(results: Results): Promise<void> {
  const kindConfig = path.join(ctx.state.workDir, "kind-config.yaml");
  writeFileSync(kindConfig, renderKindConfig(ctx.resolved()));
  const barePort = await freePort();
  const noChangeRuns = ctx.SMOKE ? 2 : 3;
  const tools = ["pulumi-kind-dev", "bare", "ctlptl"] as const;
  for (let r = 0; r < ctx.RUNS; r++) {
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[(i + r) % tools.length];
      ctx.log(`benchmark 3: round ${r + 1}/${ctx.RUNS}: ${tool} from nothing`);
      if (tool === "bare") {
        const b = await bare(kindConfig, barePort);
        results.samples.push({ what: "bare", round: r, ...b });
        ctx.log(`  bare: ${b.total}s (registry ${b.registry}s, kind ${b.kind}s)`);
      } else if (tool === "ctlptl") {
        const total = await ctlptlFromNothing(results, r);
        results.samples.push({ what: "ctlptl-from-nothing", round: r, total });
        ctx.log(`  ctlptl apply (registry + cluster): ${total}s`);
      } else {
        ctx.removeRegistryAndCache();
        const up = await ctx.npmUp();
        results.ups.push({ what: "from-nothing", round: r, ...up });
        ctx.log(`  npm run up from nothing: ${up.wall}s (${up.changes.join(", ")})`);
        for (let n = 0; n < noChangeRuns; n++) {
          const again = await ctx.npmUp();
          results.ups.push({ what: "no-change", round: r, ...again });
          ctx.log(`  npm run up, no change: ${again.wall}s`);
          if (again.changes.length > 0) {
            results.notes.push(`a no-change npm run up changed: ${again.changes.join(", ")}`);
          }
        }
        const seconds = await doctor(results);
        results.samples.push({ what: "doctor", round: r, total: seconds });
        ctx.destroy();
        ctx.removeRegistryAndCache();
      }
    }
  }
}
