/**
 * `kind-dev doctor` and `kind-dev prune` on a real environment: the dev stack brought up by the
 * real Pulumi engine (two nodes, a push registry, a Docker Hub cache in front of a local
 * stand-in), then one fault at a time. For each, the doctor must name exactly that fault (the
 * only failing check that does not follow from another) with its remedy, and `--fix` must repair
 * it where it applies. The doctor runs as its built command (`dist/doctor/cli.js`), with the
 * test bed's tools on PATH but without the docker wrapper kind needs here: the product must not
 * need it.
 *
 * Needs `npm run testbed:e2e` (Docker engine, images, Pulumi CLI and plugins, kind, node image).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { type DoctorReport, runDoctor } from "../../components/doctor/doctor";
import { nodeScript } from "../../components/doctor/facts";
import { type Exec, execCommand } from "../../components/exec";
import type { PruneReport } from "../../components/doctor/prune";
import { RegistryApi, type RegistryClient } from "../../components/doctor/registryApi";
import type { CheckResult } from "../../components/doctor/checks";
import { BED_BIN, REPO_DIR, run, waitFor } from "../support/bed";
import { type Call as RecordedCall, rootFaults } from "../unit/doctor/recorded";
import { BASE_IMAGE, DevEnvironment, type DevStack } from "../support/lifecycle";

const CLUSTER = "kdev-doc";
const env = new DevEnvironment("doctor e2e", CLUSTER, [
  { host: "docker.io", publish: false, standIn: "kdev-doc-upstream" },
]);
const { network: NETWORK, registry: REGISTRY, step } = env;
const CACHE = env.upstream().cache;
const CONTROL_PLANE = `${CLUSTER}-control-plane`;
const WORKER = `${CLUSTER}-worker`;
const CLI = path.join(REPO_DIR, "dist/doctor/cli.js");
/** The bed's tools, without the docker wrapper. */
const DOCTOR_PATH = `${BED_BIN}:${process.env["PATH"] ?? ""}`;

let dev: DevStack;
let kubeconfigFile: string;

/** `kind-dev doctor --cluster kdev-doc --kubeconfig <file>`. */
const doctorOn = () => ["doctor", "--cluster", CLUSTER, "--kubeconfig", kubeconfigFile];

function kindDev(...args: string[]) {
  const start = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, PATH: DOCTOR_PATH, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ...r, seconds: (Date.now() - start) / 1000 };
}

/**
 * `kind-dev doctor --cluster kdev-doc --kubeconfig <file> --json [extra]`, parsed. The kubeconfig
 * is named because `kind get kubeconfig` runs a privileged `docker exec`, which only the docker
 * wrapper makes work on these machines; without it the doctor falls back to the control plane's
 * own kubectl (see the first step).
 */
function doctor(...extra: string[]) {
  const r = kindDev(...doctorOn(), "--json", ...extra);
  try {
    return { run: r, report: JSON.parse(r.stdout) as DoctorReport };
  } catch {
    throw new Error(`kind-dev doctor printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

/**
 * With KIND_DEV_DOCTOR_RECORD=<dir>, runs the doctor once more in this process and writes every
 * command it ran and what it returned to <dir>/<name>.json: the recorded inputs of the unit
 * tests (test/unit/doctor/recorded). The kubeconfig kind prints is not kept.
 */
async function record(name: string): Promise<void> {
  const dir = process.env["KIND_DEV_DOCTOR_RECORD"];
  if (dir === undefined || dir === "") {
    return;
  }
  const calls: RecordedCall[] = [];
  const recording: Exec = async (file, args, options) => {
    const result = await execCommand(file, args, options);
    const kubeconfig = file === "kind" && args[1] === "kubeconfig";
    calls.push({
      argv: [file, ...args],
      result: kubeconfig ? { ...result, stdout: "(kubeconfig not recorded)\n" } : result,
    });
    return result;
  };
  /** Records how each call of the registry's HTTP API went. */
  const http = <T>(call: string, p: Promise<T>): Promise<T> =>
    p.then(
      (value) => {
        calls.push({ http: call, value: value === undefined ? null : value });
        return value;
      },
      (e: Error) => {
        calls.push({ http: call, error: e.message });
        throw e;
      },
    );
  const registryClient = (base: string, timeoutMs: number): RegistryClient => {
    const api = new RegistryApi(base, timeoutMs);
    return {
      ping: () => http("ping", api.ping()),
      pushBlob: (repo, blob) => http(`pushBlob ${repo} ${blob.digest}`, api.pushBlob(repo, blob)),
      putManifest: (repo, tag, type, bytes) =>
        http(`putManifest ${repo}:${tag}`, api.putManifest(repo, tag, type, bytes)),
      deleteManifest: (repo, digest) =>
        http(`deleteManifest ${repo}@${digest}`, api.deleteManifest(repo, digest)),
    };
  };
  const saved = process.env["PATH"];
  process.env["PATH"] = DOCTOR_PATH;
  try {
    await runDoctor({
      cluster: CLUSTER,
      kubeconfig: kubeconfigFile,
      exec: recording,
      registryClient,
    });
  } finally {
    process.env["PATH"] = saved;
  }
  const trimmed = calls.map(trimCall);
  // Faults are written as what differs from the healthy run, which is recorded first.
  const healthy = recordedHealthy ?? [];
  const same = new Set(healthy.map((c) => JSON.stringify(c)));
  const kept = name === "healthy" ? trimmed : trimmed.filter((c) => !same.has(JSON.stringify(c)));
  if (name === "healthy") {
    recordedHealthy = trimmed;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(kept, null, 2) + "\n");
}

let recordedHealthy: RecordedCall[] | undefined;

/**
 * A recorded call with the kubeconfig path made constant, scripts/hosts-node.sh named instead of
 * written out (its text changes with the script), and docker's and kubectl's JSON cut
 * down to the fields the doctor reads (the rest is large and says nothing to the tests).
 */
function trimCall(call: RecordedCall): RecordedCall {
  if (!("argv" in call)) {
    return call;
  }
  const node = nodeScript();
  const argv = call.argv.map((a) =>
    a === kubeconfigFile ? "KUBECONFIG" : a === node ? "(scripts/hosts-node.sh)" : a,
  );
  const pick = (o: Record<string, unknown>, keys: string[]) =>
    Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
  let stdout = call.result.stdout;
  const json = (f: (v: unknown) => unknown) => {
    try {
      stdout = JSON.stringify(f(JSON.parse(stdout)), null, 2) + "\n";
    } catch {
      // Not JSON (an error): kept as printed.
    }
  };
  if (argv[0] === "docker" && argv[1] === "container" && argv[2] === "inspect") {
    json((list) =>
      (list as Record<string, Record<string, unknown>>[]).map((c) => ({
        ...pick(c, ["Id", "Name", "Path", "Args", "RestartCount", "State"]),
        // Docker lists mounts in no fixed order.
        Mounts: ((c["Mounts"] as unknown as { Destination: string }[] | undefined) ?? [])
          .slice()
          .sort((a, b) => a.Destination.localeCompare(b.Destination)),
        Config: pick(c["Config"] ?? {}, ["Image", "Labels", "Env"]),
        HostConfig: pick(c["HostConfig"] ?? {}, ["PortBindings"]),
        NetworkSettings: {
          Networks: Object.fromEntries(
            Object.keys((c["NetworkSettings"]?.["Networks"] as object | undefined) ?? {}).map(
              (n) => [n, {}],
            ),
          ),
        },
      })),
    );
  } else if (argv.includes("nodes") && argv.includes("json")) {
    json((list) => ({
      items: ((list as { items: Record<string, Record<string, unknown>>[] }).items ?? []).map(
        (n) => ({
          metadata: pick(n["metadata"] ?? {}, ["name"]),
          status: pick(n["status"] ?? {}, ["conditions"]),
        }),
      ),
    }));
  } else if (argv.includes("configmap") && argv.includes("json")) {
    json((cm) => pick(cm as Record<string, unknown>, ["apiVersion", "kind", "data"]));
  }
  return { argv, result: { ...call.result, stdout } };
}

function notPassing(results: readonly CheckResult[]): string {
  return results
    .filter((r) => r.status !== "pass")
    .map((r) => `${r.status} ${r.id}: ${r.detail} -> ${r.remedy}`)
    .join("\n");
}

function expectHealthy(report: DoctorReport): void {
  expect(notPassing(report.results)).toBe("");
  expect(report.ok).toBe(true);
}

/** The doctor names exactly this one fault, with this remedy, and warns of nothing. */
function expectOnlyFault(report: DoctorReport, id: string, remedy: string): void {
  const found = rootFaults(report.results).map((r) => [r.id, r.remedy]);
  expect(found, notPassing(report.results)).toEqual([[id, remedy]]);
  expect(report.results.filter((r) => r.status === "warn")).toEqual([]);
  expect(report.ok).toBe(false);
}

/** `--fix`, then the report after the repair passes every check. */
function expectFixed(id: string): void {
  const { run: r, report } = doctor("--fix");
  expect(report.fixes.map((f) => [f.id, f.ok])).toEqual([[id, true]]);
  expect(rootFaults(report.before ?? []).map((x) => x.id)).toEqual([id]);
  expectHealthy(report);
  expect(r.status).toBe(0);
}

/** Doctor until every check passes (a node coming back, a registry starting). */
async function healthyWithin(what: string, ms: number): Promise<void> {
  let last: DoctorReport | undefined;
  await waitFor(
    what,
    ms,
    () => {
      last = doctor().report;
      return last.ok && last.results.every((r) => r.status === "pass");
    },
    2000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last report:\n${last ? notPassing(last.results) : "none"}`);
  });
}

function volumeBytes(volume: string): number {
  const out = run("docker", ["system", "df", "-v", "--format", "{{json .Volumes}}"]);
  const v = (JSON.parse(out) as { Name: string; Size: string }[]).find((x) => x.Name === volume);
  const m = /^([\d.]+)([kMG]?)B$/.exec(v?.Size ?? "");
  if (m === null) {
    throw new Error(`no size for volume ${volume}: ${out}`);
  }
  return Number(m[1]) * 1000 ** " kMG".indexOf(m[2] || " ");
}

/** A repository's tags; none when the registry does not know it (404). */
function tags(repository: string): string[] {
  const out = run("curl", [
    "-sS",
    `http://127.0.0.1:${env.registryPort}/v2/${repository}/tags/list`,
  ]);
  return ((JSON.parse(out) as { tags?: string[] | null }).tags ?? []).sort();
}

/** The prune steps' images on the host, tagged and untagged. */
function removePruneImages(): void {
  const ids = run("docker", [
    "image",
    "ls",
    "--filter",
    `reference=localhost:${env.registryPort}/prune-app`,
    "--format",
    "{{.ID}}",
  ]);
  const unique = [...new Set(ids.split("\n").filter((l) => /^[0-9a-f]+$/.test(l)))];
  if (unique.length > 0) {
    run("docker", ["rmi", "-f", ...unique]);
  }
}

describe("kind-dev doctor and prune on a real environment", () => {
  beforeAll(async () => {
    run("npm", ["run", "build"], { cwd: REPO_DIR });
    await env.setUp();
    dev = await env.stack(`e2e-doctor-${process.pid}`, CLUSTER);
    kubeconfigFile = dev.kube.kubeconfigFile;
    await dev.upReady();
  }, 1_800_000);

  afterAll(async () => {
    if (env.registryPort !== 0) {
      removePruneImages();
    }
    await env.tearDown();
  }, 600_000);

  step("a healthy environment passes every check", async () => {
    await record("healthy");
    const { run: r, report } = doctor();
    expectHealthy(report);
    expect(r.status).toBe(0);
    // The probe image is gone from the registry and the nodes again.
    expect(tags("kind-dev-doctor")).toEqual([]);
    for (const node of [CONTROL_PLANE, WORKER]) {
      expect(run("docker", ["exec", node, "crictl", "images", "-q"])).not.toContain(
        "kind-dev-doctor",
      );
    }
    const table = kindDev(...doctorOn());
    expect(table.status).toBe(0);
    // Without --kubeconfig: kind's own kubeconfig, or (where kind's privileged exec fails, as on
    // these machines without the wrapper) the control plane's kubectl, with a warning.
    const plain = JSON.parse(
      kindDev("doctor", "--cluster", CLUSTER, "--json").stdout,
    ) as DoctorReport;
    expect(plain.ok).toBe(true);
    expect(
      plain.results.filter((x) => x.status !== "pass").map((x) => `${x.id} ${x.detail}`),
    ).toEqual(
      plain.results.some((x) => x.id === "kubeconfig" && x.status === "warn")
        ? [
            expect.stringMatching(
              /^kubeconfig kind get kubeconfig --name kdev-doc failed \(.*\); read the cluster with the kubectl of kdev-doc-control-plane$/,
            ),
          ]
        : [],
    );
    console.log(`[doctor e2e] kind-dev doctor on the healthy environment:\n${table.stdout}`);
    console.log(
      `[doctor e2e] doctor wall time on the healthy 2-node environment: ${r.seconds.toFixed(
        2,
      )} s (--json), ${table.seconds.toFixed(2)} s (table)`,
    );
  });

  step("a node's hosts.toml removed: named, and --fix writes it again", async () => {
    const file = `/etc/containerd/certs.d/localhost:${env.registryPort}/hosts.toml`;
    run("docker", ["exec", WORKER, "rm", file]);
    await record("hosts-toml-removed");
    const { run: r, report } = doctor();
    const id = `node.hosts-toml@${WORKER}/localhost:${env.registryPort}`;
    expectOnlyFault(
      report,
      id,
      `npx kind-dev doctor --fix --cluster ${CLUSTER} --kubeconfig ${kubeconfigFile} (writes the file the component renders)`,
    );
    expect(r.status).toBe(1);
    expectFixed(id);
    expect(run("docker", ["exec", WORKER, "cat", file])).toBe(`[host."http://${REGISTRY}:5000"]\n`);
  });

  step("the registry disconnected from the network: named, and --fix connects it", async () => {
    run("docker", ["network", "disconnect", NETWORK, REGISTRY]);
    await record("registry-disconnected");
    const { report } = doctor();
    expectOnlyFault(report, "registry.network", `docker network connect ${NETWORK} ${REGISTRY}`);
    const table = kindDev(...doctorOn());
    expect(table.status).toBe(1);
    console.log(`[doctor e2e] kind-dev doctor with the registry off the network:\n${table.stdout}`);
    expectFixed("registry.network");
  });

  step("a cache stopped: named, and --fix starts it", async () => {
    run("docker", ["stop", CACHE]);
    await record("cache-stopped");
    const { report } = doctor();
    expectOnlyFault(report, `cache.running@${CACHE}`, `docker start ${CACHE}`);
    expectFixed(`cache.running@${CACHE}`);
  });

  step(
    "the ConfigMap deleted: named; pulumi up --refresh, its remedy, brings it back",
    async () => {
      dev.kube.kubectl("delete", "configmap", "-n", "kube-public", "local-registry-hosting");
      await record("configmap-deleted");
      const { run: r, report } = doctor();
      expectOnlyFault(
        report,
        "configmap",
        "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)",
      );
      // Nothing --fix may do: it only explains.
      const fixed = doctor("--fix").report;
      expect(fixed.fixes).toEqual([]);
      expect(rootFaults(fixed.results).map((x) => x.id)).toEqual(["configmap"]);
      expect(r.status).toBe(1);
      await dev.up({ refresh: true });
      expectHealthy(doctor().report);
    },
  );

  step(
    "a node restarted: while it is down only that node is named; back up, all passes",
    async () => {
      run("docker", ["stop", WORKER]);
      await record("node-stopped");
      const { report } = doctor();
      expectOnlyFault(report, `node.running@${WORKER}`, `docker start ${WORKER}`);
      run("docker", ["start", WORKER]);
      dev.kube.kubectl("wait", "--for=condition=Ready", `node/${WORKER}`, "--timeout=300s");
      // hosts.toml lives in the node's filesystem: a restart keeps it, nothing to fix.
      await healthyWithin("the doctor passing after the node restart", 300_000);
    },
  );

  step("the registry removed by hand: named; pulumi up, its remedy, brings it back", async () => {
    run("docker", ["rm", "-f", REGISTRY]);
    await record("registry-removed");
    const { report } = doctor();
    expectOnlyFault(
      report,
      "registry.running",
      `pulumi up (creates ${REGISTRY} again on ${REGISTRY}-data, images included)`,
    );
    expect(doctor("--fix").report.fixes).toEqual([]);
    await dev.up();
    expectHealthy(doctor().report);
  });

  step("prune --keep-last 1: the volume shrinks, the kept tag still pulls", () => {
    const repo = `localhost:${env.registryPort}/prune-app`;
    for (const v of ["v1", "v2", "v3"]) {
      // Two layers of its own per tag, over the shared base.
      run("docker", ["build", "-q", "-t", `${repo}:${v}`, "-"], {
        input: `FROM ${BASE_IMAGE}\nRUN head -c 3000000 /dev/urandom > /a-${v}\nRUN head -c 2000000 /dev/urandom > /b-${v}\n`,
        env: { DOCKER_BUILDKIT: "0" },
      });
      run("docker", ["push", `${repo}:${v}`]);
    }
    expect(tags("prune-app")).toEqual(["v1", "v2", "v3"]);
    const before = volumeBytes(`${REGISTRY}-data`);

    const r = kindDev("prune", "--registry", REGISTRY, "--keep-last", "1", "--json");
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as PruneReport;
    expect(report.distribution).toBe(3);
    expect(report.deleteUntagged).toBe(false);
    expect(report.plan.delete.map((d) => d.tags)).toEqual([["v2"], ["v1"]]);
    expect(report.bytesReclaimed).toBeGreaterThan(9_000_000);
    const after = volumeBytes(`${REGISTRY}-data`);
    expect(after).toBeLessThan(before - 9_000_000);
    console.log(
      `[doctor e2e] prune --keep-last 1: volume ${before} -> ${after} bytes, reported reclaimed ${report.bytesReclaimed}`,
    );
    expect(tags("prune-app")).toEqual(["v3"]);

    // The kept tag pulls on a node through hosts.toml, and from the host.
    run("docker", ["exec", WORKER, "crictl", "pull", `${repo}:v3`]);
    run("docker", ["rmi", `${repo}:v3`]);
    run("docker", ["pull", `${repo}:v3`]);
    expectHealthy(doctor().report);
  });

  step("prune --untagged: what re-pushing a tag left behind goes", () => {
    const repo = `localhost:${env.registryPort}/prune-app`;
    // A new image under the same tag leaves the old manifest untagged, its layers still stored.
    run("docker", ["build", "-q", "-t", `${repo}:v3`, "-"], {
      input: `FROM ${BASE_IMAGE}\nRUN head -c 4000000 /dev/urandom > /c\n`,
      env: { DOCKER_BUILDKIT: "0" },
    });
    run("docker", ["push", `${repo}:v3`]);
    const before = volumeBytes(`${REGISTRY}-data`);
    const r = kindDev("prune", "--registry", REGISTRY, "--untagged", "--json");
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as PruneReport;
    expect(report.deleteUntagged).toBe(true);
    expect(report.plan.delete).toEqual([]);
    expect(report.collected).toMatch(/ [1-9]\d* manifests eligible for deletion$/);
    expect(volumeBytes(`${REGISTRY}-data`)).toBeLessThan(before - 4_000_000);
    run("docker", ["exec", CONTROL_PLANE, "crictl", "pull", `${repo}:v3`]);
    expect(tags("prune-app")).toEqual(["v3"]);
  });
});
