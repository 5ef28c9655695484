/** Benchmark 3: engine overhead, `pulumi up` from nothing vs bare kind + registry. */
import { renderKindConfig } from "../../components/render/kindConfig";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { freePort, REPO_DIR, run, runAsync, tryRun } from "../support/bed";
import {
  waitFor,
  RUNS3,
  CLUSTER,
  NETWORK,
  BARE_REGISTRY,
  log,
  secs,
  state,
  resolved,
  up,
  upChanges,
  destroy,
  removeContainer,
  removeRegistryAndCache,
} from "./context";
import { type Results } from "./report";

// Benchmark 3: engine overhead

export async function bench3(results: Results): Promise<void> {
  const cfg = resolved();
  const kindConfigFile = path.join(state.workDir, "kind-config.yaml");
  writeFileSync(kindConfigFile, renderKindConfig(cfg));
  const barePort = await freePort();
  // The same registry image as the component's, so the bare figure differs only by the engine.
  const registryImage = cfg.registry.spec.image;
  const bare = async (): Promise<{ total: number; registry: number; kind: number }> => {
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
      registryImage,
    ]);
    await waitFor(
      "bare registry",
      60_000,
      () => tryRun("curl", ["-fsS", "-o", "/dev/null", `http://127.0.0.1:${barePort}/v2/`]).ok,
    );
    const t1 = Date.now();
    run("kind", ["create", "cluster", "--name", CLUSTER, "--config", kindConfigFile], {
      env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: NETWORK },
    });
    const t2 = Date.now();
    run("kind", ["delete", "cluster", "--name", CLUSTER]);
    removeContainer(BARE_REGISTRY, `${BARE_REGISTRY}-data`);
    return { total: secs(t2 - t0), registry: secs(t1 - t0), kind: secs(t2 - t1) };
  };
  let doctorSeconds = 0;
  const pulumiFromNothing = async (): Promise<{ up: number; noop: number; doctor: number }> => {
    removeRegistryAndCache();
    const t0 = Date.now();
    await up(true);
    const t1 = Date.now();
    results.upTimings?.push(state.lastTimings);
    const changes = await upChanges();
    const t2 = Date.now();
    // The doctor on the healthy two-node environment just made (its own wall time, from --json),
    // once every node is Ready (kind returns before the worker's CNI is up). A failing check
    // (exit 1) is recorded with its id, not fatal; anything else is.
    run("kubectl", [
      "--kubeconfig",
      state.kubeconfigFile,
      "wait",
      "--for=condition=Ready",
      "nodes",
      "--all",
      "--timeout=300s",
    ]);
    const doctor = await runAsync("node", [
      path.join(REPO_DIR, "dist/doctor/cli.js"),
      "doctor",
      "--cluster",
      CLUSTER,
      "--kubeconfig",
      state.kubeconfigFile,
      "--json",
    ]);
    if (doctor.code !== 0 && doctor.code !== 1) {
      throw new Error(`kind-dev doctor exited ${doctor.code}: ${doctor.stderr.slice(-2000)}`);
    }
    const report = JSON.parse(doctor.stdout) as {
      ok: boolean;
      seconds: number;
      results: { id: string; status: string; detail: string }[];
    };
    if (!report.ok) {
      const failed = report.results
        .filter((r) => r.status === "fail")
        .map((r) => `${r.id} (${r.detail})`);
      log(`  the doctor found a fault on the fresh environment: ${failed.join("; ")}`);
      results.notes.push(
        `benchmark 3: the doctor found a fault on the fresh environment: ${failed.join("; ")}`,
      );
    }
    doctorSeconds = report.seconds;
    if (Object.keys(changes).length > 0) {
      log(`  warning: second pulumi up made changes: ${JSON.stringify(changes)}`);
      results.notes.push(
        `benchmark 3: a second pulumi up made changes: ${JSON.stringify(changes)}`,
      );
    }
    await destroy();
    removeRegistryAndCache();
    return { up: secs(t1 - t0), noop: secs(t2 - t1), doctor: doctorSeconds };
  };
  for (let r = 0; r < RUNS3; r++) {
    const order = r % 2 === 0 ? ["pulumi", "bare"] : ["bare", "pulumi"];
    for (const which of order) {
      log(`benchmark 3: run ${r + 1}/${RUNS3}: ${which}`);
      if (which === "bare") {
        const t = await bare();
        results.overhead.push({ what: "bare", run: r, total: t.total });
        results.overhead.push({ what: "bare-registry", run: r, total: t.registry });
        results.overhead.push({ what: "bare-kind", run: r, total: t.kind });
        log(
          `  bare kind create + registry: ${t.total}s (registry ${t.registry}s, kind ${t.kind}s)`,
        );
      } else {
        const t = await pulumiFromNothing();
        results.overhead.push({ what: "pulumi-up", run: r, total: t.up });
        results.overhead.push({ what: "pulumi-up-nochange", run: r, total: t.noop });
        results.overhead.push({ what: "doctor", run: r, total: t.doctor });
        log(
          `  pulumi up from nothing: ${t.up}s; no-change pulumi up: ${t.noop}s; doctor: ${t.doctor}s`,
        );
      }
    }
  }
}
