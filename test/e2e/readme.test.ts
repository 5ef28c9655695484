/**
 * The commands of the README and docs/, run literally (each string below is a line of them, and
 * a unit test checks that every such command is here or covered elsewhere), in a copy of the
 * repository, as a new user runs them: `npm ci && npm run up` finds its own tools (the test bed's
 * tools are not on PATH) and, with the registry image and the node image removed first, makes
 * them again; `npm run up` again changes nothing; the image workflow, the doctor and prune;
 * `npm run down` leaves the registry.
 *
 * It runs the dev stack as it is (cluster `dev`, registry `kind-registry` on port 5001, network
 * `kind`), so those must be free; it refuses to start otherwise and removes what it made.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BED_BIN, REPO_DIR, run, tryRun, WRAPPER_DIR } from "../support/bed";
import { containerRunning } from "../support/lifecycle";

/** What the dev stack (stacks/dev/Pulumi.dev.yaml and the component's defaults) creates. */
const DEV = {
  cluster: "dev",
  registry: "kind-registry",
  cache: "kind-cache-docker-io",
  network: "kind",
  port: 5001,
} as const;
const NODE_IMAGE_TAG = "kind-dev-bed/node";

let work: string;
let backend: string;
let appDir: string;

/** The environment a user's shell has here: no test-bed tools on PATH. */
function userEnv(): NodeJS.ProcessEnv {
  const strip = new Set([BED_BIN, WRAPPER_DIR]);
  return {
    ...process.env,
    PATH: (process.env["PATH"] ?? "")
      .split(":")
      .filter((p) => !strip.has(p))
      .join(":"),
    PULUMI_BACKEND_URL: `file://${backend}`,
    // The legacy builder: BuildKit does not run on these machines' Docker 20.10.
    DOCKER_BUILDKIT: "0",
  };
}

/**
 * The commands that find their own tools; every other one runs as after `. test/bed/env.sh`,
 * which a machine that `npm run up` bootstrapped needs for kind and kubectl.
 */
const FINDS_ITS_TOOLS = [
  "npm ci && npm run up",
  "npm run up",
  "npm run down",
  "npm ci && npm test",
];

/** Runs one README command with bash in `cwd`: its status, stdout, and both streams in order. */
function sh(
  command: string,
  cwd = work,
): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const env = userEnv();
    const child = spawn("bash", ["-c", command], {
      cwd,
      env: FINDS_ITS_TOOLS.includes(command) ? env : { ...env, PATH: `${BED_BIN}:${env["PATH"]}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output, stdout });
    });
  });
}

async function ok(command: string, cwd?: string): Promise<string> {
  const r = await sh(command, cwd);
  expect(r.code, `${command}\n${r.output.slice(-4000)}`).toBe(0);
  return r.output;
}

function exists(kind: "container" | "network" | "volume", name: string): boolean {
  return tryRun("docker", [kind, "inspect", name]).ok;
}

describe("the README's commands, literally", () => {
  beforeAll(() => {
    const taken = [
      ...[DEV.registry, DEV.cache, `${DEV.cluster}-control-plane`].filter((n) =>
        exists("container", n),
      ),
      ...(tryRun("kind", ["get", "clusters"]).out.split("\n").includes(DEV.cluster)
        ? [`kind cluster ${DEV.cluster}`]
        : []),
    ];
    if (taken.length > 0) {
      throw new Error(
        `the README test runs the dev stack as it is; these exist already: ${taken.join(", ")}. ` +
          "Remove them (npm run down; docker rm -f kind-registry kind-cache-docker-io) and run it again.",
      );
    }
    work = mkdtempSync(path.join(os.tmpdir(), "kind-dev-readme-"));
    backend = path.join(work, ".backend");
    mkdirSync(backend);
    appDir = path.join(work, ".app");
    mkdirSync(appDir);
    writeFileSync(path.join(appDir, "Dockerfile"), "FROM kind-dev-bed/testimg:1\n");
    // A copy of the checkout as git sees it (tracked and untracked files, not ignored ones).
    const files = run("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: REPO_DIR })
      .split("\0")
      .filter((f) => f !== "");
    for (const f of files) {
      cpSync(path.join(REPO_DIR, f), path.join(work, "repo", f), { recursive: true });
    }
    work = path.join(work, "repo");
    // A checkout, as a user's is (a unit test lists the files git tracks).
    run("git", ["init", "-q"], { cwd: work });
    run("git", ["add", "-A"], { cwd: work });
    // As empty as this machine allows: the registry image and the node image go, so the first
    // run makes both again (the Go build cache and the Debian packages stay).
    tryRun("docker", ["image", "rm", "-f", "registry:3"]);
    const format = "{{.Repository}}:{{.Tag}}";
    for (const image of run("docker", ["images", "--format", format, NODE_IMAGE_TAG]).split("\n")) {
      if (image !== "") {
        tryRun("docker", ["image", "rm", "-f", image]);
      }
    }
  });

  afterAll(async () => {
    await sh("npm run down").catch(() => undefined);
    tryRun("docker", ["image", "rm", "localhost:5001/app:dev"]);
    for (const name of [DEV.registry, DEV.cache]) {
      const labels = tryRun("docker", [
        "inspect",
        "-f",
        '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}',
        name,
      ]);
      if (labels.ok && labels.out.trim() === "true") {
        tryRun("docker", ["rm", "-f", name]);
        tryRun("docker", ["volume", "rm", `${name}-data`]);
      }
    }
    const network = tryRun("docker", [
      "network",
      "inspect",
      "-f",
      '{{index .Labels "dev.pulumi-kind-dev.managed"}}',
      DEV.network,
    ]);
    if (network.ok && network.out.trim() === "true") {
      tryRun("docker", ["network", "rm", DEV.network]);
    }
    if (work) {
      rmSync(path.dirname(work), { recursive: true, force: true });
    }
  });

  it("npm ci && npm run up: the first run makes what is missing and brings the stack up", async () => {
    const out = await ok("npm ci && npm run up");
    expect(out).toContain("registry:3 cannot be pulled: building it");
    expect(out).toContain("using the test bed's node image");
    expect(exists("container", DEV.registry)).toBe(true);
    expect(run("kind", ["get", "clusters"]).split("\n")).toContain(DEV.cluster);
  });

  it("npm run up again changes nothing", async () => {
    const out = await ok("npm run up");
    expect(out).toMatch(/Resources:\n\s+\d+ unchanged/);
    expect(out).not.toMatch(/^\s+[~+-] .*(updated|created|deleted|replaced)/m);
  });

  it("npm ci && npm test", async () => {
    // vitest colours its summary.
    const summary = (await ok("npm ci && npm test")).replace(/\x1b\[[0-9;]*m/g, "");
    expect(summary).toMatch(/Tests\s+\d+ passed \(\d+\)/);
  });

  it("builds and pushes an image to the registry, which pods pull", async () => {
    await ok(
      "docker build -t localhost:5001/app:dev . && docker push localhost:5001/app:dev",
      appDir,
    );
    expect(
      await ok(
        "docker exec dev-control-plane cat /etc/containerd/certs.d/localhost:5001/hosts.toml",
      ),
    ).toContain(`[host."http://${DEV.registry}:5000"]`);
    expect(await ok("docker exec dev-control-plane crictl pull localhost:5001/app:dev")).toMatch(
      /Image is up to date for sha256:[0-9a-f]{64}/,
    );
  });

  it("the KEP-1755 ConfigMap names the registry", async () => {
    const data = await ok(
      "kubectl get configmap -n kube-public local-registry-hosting -o jsonpath='{.data.localRegistryHosting\\.v1}'",
    );
    expect(data).toContain(`host: "localhost:${DEV.port}"`);
  });

  // This machine has no internet: the dev stack's Docker Hub cache cannot reach its upstream, so
  // it restarts, and that is the one fault the doctor may name (everything else passes).
  it("the doctor, in each form, names one fault here: the Docker Hub cache without internet", async () => {
    for (const command of [
      "npx kind-dev doctor",
      "npx kind-dev doctor --cluster dev",
      "npx kind-dev doctor --fix",
    ]) {
      const r = await sh(command);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(/^ok {4}node dev-worker Ready/m);
      expect(r.output).toMatch(/^ok {4}dev-worker pulls through hosts\.toml/m);
      expect(r.output).toMatch(/failed \(1 fault at the root\)/);
      for (const line of r.output.split("\n").filter((l) => l.startsWith("FAIL"))) {
        expect(line).toContain("kind-cache-docker-io");
      }
    }
    const json = await sh("npx kind-dev doctor --json");
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      results: { id: string; status: string; causedBy?: string }[];
    };
    const failing = report.results.filter((x) => x.status === "fail");
    expect(failing.length).toBeGreaterThan(0);
    expect(new Set(failing.map((x) => x.causedBy ?? x.id))).toEqual(
      new Set(["cache.running@kind-cache-docker-io"]),
    );
  });

  it("prune keeps the newest tags and says what it would delete", async () => {
    expect(await ok("npx kind-dev prune --keep-last 3 --dry-run")).toContain(
      "kind-registry (registry:3): would delete 0 images, keeping 1 tag",
    );
    await ok("npx kind-dev prune --keep-last 3");
    await ok("npx kind-dev prune --untagged");
    await ok("npx kind-dev prune --keep-last 3 --untagged");
    expect(await ok("docker exec dev-control-plane crictl pull localhost:5001/app:dev")).toMatch(
      /Image is up to date/,
    );
  });

  it("npm run down drops the cluster and keeps the registry with its images", async () => {
    await ok("npm run down");
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(DEV.cluster);
    expect(containerRunning(DEV.registry)).toBe(true);
    expect(run("curl", ["-fsS", `http://127.0.0.1:${DEV.port}/v2/app/tags/list`])).toContain(
      '"dev"',
    );
  });
});
