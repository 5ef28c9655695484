/**
 * The failures a new user meets first, each through `npm run up` exactly as the README says it,
 * on the real engine: the exact message that names the cause and the fix, the whole output on
 * one screen, never a script's text, and no cluster created when the registry cannot start.
 * The lines themselves are in test/support/failures.ts, which docs/troubleshooting.md is checked against.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import {
  BED_BIN,
  BED_IMAGES,
  describeDocker,
  docker,
  dockerResult,
  freePort,
  pulumiEnv,
  REPO_DIR,
  runId,
  tcpConnect,
  volumeExists,
} from "./helpers";
import { npmRunUp } from "../support/bed";
import { FAILURES, type FailureValues } from "../support/failures";

/**
 * What a failure may print in all, npm's and the engine's own lines included: one screen (the
 * engine alone prints some 25 lines for a run that creates four resources and fails one), and
 * a few KB, where the script's text once made it 40 KB.
 */
const SCREEN = { lines: 40, bytes: 4096 };
/** The command provider's line for a step that exited 1. */
const EXIT_1 = expect.stringMatching(/^error: exit status 1: running "exec \/bin\/sh -c .*\.sh":$/);

interface UpResult {
  readonly code: number;
  readonly output: string;
}

describeDocker("the first failures a user meets, through npm run up", () => {
  const id = runId();
  const stack = `fail-${id}`;
  const stackFile = path.join(REPO_DIR, "stacks/dev", `Pulumi.${stack}.yaml`);
  const names = {
    cluster: `kdf-${id}`,
    network: `kdf-${id}-net`,
    registry: `kdf-${id}-registry`,
    cache: `kdf-${id}-cache`,
  };
  let backend: string;
  let emptyBedCache: string;
  let port: number;
  /** The values the catalogue's lines name, for this run. */
  let values: FailureValues;
  const cleanups: (() => Promise<unknown>)[] = [];

  /** Writes the stack's config (the user's Pulumi.<stack>.yaml) and runs `npm run up`. */
  async function up(
    settings: Readonly<Record<string, string | number>>,
    env: Readonly<Record<string, string>> = {},
  ): Promise<UpResult> {
    const config = {
      clusterName: names.cluster,
      networkName: names.network,
      registryName: names.registry,
      registryPort: port,
      caches: "[]",
      ...settings,
    };
    writeFileSync(
      stackFile,
      `config:\n${Object.entries(config)
        .map(([k, v]) => `  kind-dev:${k}: ${typeof v === "number" ? v : JSON.stringify(v)}\n`)
        .join("")}`,
    );
    return npmRunUp(
      { ...process.env, ...pulumiEnv(backend), KIND_DEV_STACK: stack, ...env },
      300_000,
    );
  }

  /** The checks every failure must pass: exit code, one screen, no script text. */
  function expectShort(result: UpResult, ...lines: string[]): void {
    expect(result.code, result.output).not.toBe(0);
    for (const line of lines) {
      expect(result.output).toContain(line);
    }
    const count = result.output.trimEnd().split("\n").length;
    expect(count, `${count} lines:\n${result.output}`).toBeLessThanOrEqual(SCREEN.lines);
    expect(Buffer.byteLength(result.output), result.output).toBeLessThanOrEqual(SCREEN.bytes);
    expect(result.output).not.toContain("set -eu");
    expect(result.output).not.toContain("shellcheck");
  }

  /**
   * The lines of the engine's diagnostics for the command `resource`: the provider's error line,
   * then what the step printed.
   */
  function diagnostics(output: string, resource: string): string[] {
    const block = output.split(`\n  command:local:Command (${resource}):\n`)[1]?.split("\n\n")[0];
    return (block ?? "").split("\n").map((line) => line.trim());
  }

  /** Docker's reason for not pulling `image`: the one line `docker pull` prints. */
  async function pullError(image: string): Promise<string> {
    const r = await dockerResult(["pull", "--quiet", image]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^Error response from daemon: [^\n]+\n$/);
    return r.stderr.trim();
  }

  async function clusterExists(): Promise<boolean> {
    const r = await dockerResult([
      "ps",
      "-aq",
      "--filter",
      `label=io.x-k8s.kind.cluster=${names.cluster}`,
    ]);
    return r.stdout.trim() !== "";
  }

  beforeAll(async () => {
    if (!existsSync(path.join(BED_BIN, "pulumi")) || !existsSync(path.join(BED_BIN, "kind"))) {
      throw new Error(`pulumi or kind is not in ${BED_BIN}: run 'npm run testbed' first`);
    }
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-fail-backend-"));
    emptyBedCache = mkdtempSync(path.join(os.tmpdir(), "kind-dev-fail-bed-"));
    port = await freePort();
    values = { image: "", port: String(port), registry: names.registry, cluster: names.cluster };
  });

  afterAll(async () => {
    await reset();
    rmSync(stackFile, { force: true });
    rmSync(backend, { recursive: true, force: true });
    rmSync(emptyBedCache, { recursive: true, force: true });
  });

  /** Removes what a run left (the registry, its volume, the network, the test's own) and its state. */
  afterEach(() => reset());
  async function reset(): Promise<void> {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch(() => undefined);
    }
    const env = { ...process.env, ...pulumiEnv(backend) };
    await new Promise<void>((resolve) => {
      spawn("pulumi", ["stack", "rm", "--force", "--yes", "--stack", stack], {
        cwd: REPO_DIR,
        env,
        stdio: "ignore",
      }).on("close", () => resolve());
    });
    for (const name of [names.registry, names.cache]) {
      await dockerResult(["rm", "-f", name]);
      await dockerResult(["volume", "rm", `${name}-data`]);
    }
    await dockerResult(["network", "rm", names.network]);
  }

  it("no Docker daemon: says so and how to start it", async () => {
    const dead = `unix://${path.join(emptyBedCache, "no-daemon.sock")}`;
    const result = await up({}, { DOCKER_HOST: dead });
    expectShort(result, `pulumi-kind-dev: ${FAILURES.noDaemon({ ...values, dockerHost: dead })}`);
  });

  it("kind missing: names it and where to get it", async () => {
    // A PATH with the Pulumi tools, node and docker, but no kind; no test-bed cache to fall back on.
    const bin = path.join(emptyBedCache, "bin-without-kind");
    mkdirSync(bin, { recursive: true });
    for (const tool of ["pulumi", "pulumi-language-nodejs"]) {
      symlinkSync(path.join(BED_BIN, tool), path.join(bin, tool));
    }
    const result = await up(
      {},
      {
        PATH: `${bin}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        KIND_DEV_BED_CACHE: emptyBedCache,
        KIND_DEV_NO_BOOTSTRAP: "1",
      },
    );
    expectShort(result, `pulumi-kind-dev: ${FAILURES.noKind()}`);
  });

  it("a registry image that cannot be pulled: stops before the cluster", async () => {
    const image = `kind-dev-test.invalid/registry:${id}`;
    // The default caches too, as a new user's stack has them: the cache fails the same way.
    const result = await up({
      registryImage: image,
      caches: JSON.stringify([{ upstreamHost: "docker.io", containerName: names.cache }]),
    });
    const reason = await pullError(image);
    const line = `pulumi-kind-dev: ${FAILURES.registryImage({ ...values, image, reason })}`;
    expectShort(result, line);
    // Each step printed that one line and started nothing, volume included.
    for (const [resource, name] of [
      ["dev-registry", names.registry],
      ["dev-cache-docker-io", names.cache],
    ] as const) {
      expect(diagnostics(result.output, resource)).toEqual([EXIT_1, line]);
      expect((await dockerResult(["container", "inspect", name])).code, name).not.toBe(0);
      expect(await volumeExists(`${name}-data`), name).toBe(false);
    }
    expect(await clusterExists()).toBe(false);
    expect(result.output).not.toContain("Creating cluster");
  });

  it("the registry port taken by another process: names the port and the setting", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port }, resolve));
    try {
      const result = await up({});
      expectShort(result, `pulumi-kind-dev: ${FAILURES.portTaken(values)}`);
      expect(await clusterExists()).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a container of the registry's name that is not ours: refused, left alone", async () => {
    await docker(["create", "--name", names.registry, BED_IMAGES.registry]);
    cleanups.push(() => dockerResult(["rm", "-f", "-v", names.registry]));
    const result = await up({});
    expectShort(
      result,
      `pulumi-kind-dev: ${FAILURES.containerNotOurs({ ...values, image: BED_IMAGES.registry })}`,
    );
    expect((await docker(["inspect", "-f", "{{.State.Status}}", names.registry])).trim()).toBe(
      "created",
    );
    // Nothing of the refused registry's: no volume, nothing on its port, no cluster.
    expect(await volumeExists(`${names.registry}-data`)).toBe(false);
    expect(await tcpConnect("127.0.0.1", port)).toBe("refused");
    expect(await clusterExists()).toBe(false);
  });

  it("a kind cluster of the same name that is not ours: refused, left alone", async () => {
    // What `kind get clusters` lists: a container labelled as a kind node of that cluster.
    const node = `${names.cluster}-control-plane`;
    await docker([
      "create",
      "--name",
      node,
      "--label",
      `io.x-k8s.kind.cluster=${names.cluster}`,
      "--label",
      "io.x-k8s.kind.role=control-plane",
      BED_IMAGES.registry,
    ]);
    cleanups.push(() => dockerResult(["rm", "-f", "-v", node]));
    const result = await up({});
    expectShort(result, `pulumi-kind-dev: ${FAILURES.clusterNotOurs(values)}`);
    expect((await docker(["inspect", "-f", "{{.State.Status}}", node])).trim()).toBe("created");
  });

  it("networkName host (issue #19, case 4): refused before anything is created", async () => {
    const result = await up({ networkName: "host" });
    expectShort(
      result,
      'KindDevEnvironment: invalid networkName "host": is one of Docker\'s predefined networks',
    );
    // The message alone, no stack trace; nothing of the component was made.
    expect(result.output).not.toMatch(/^\s+at /m);
    expect(result.output).not.toContain("dev-network");
    expect((await dockerResult(["container", "inspect", names.registry])).code).not.toBe(0);
  });

  it("a node image that does not exist: named before kind runs", async () => {
    const image = `kind-dev-test.invalid/node:${id}`;
    const state = path.join(emptyBedCache, "state");
    const result = await up({ nodeImage: image }, { XDG_STATE_HOME: state });
    const reason = await pullError(image);
    const line = `pulumi-kind-dev: ${FAILURES.nodeImage({ ...values, image, reason })}`;
    expectShort(result, line);
    expect(diagnostics(result.output, "dev-cluster")).toEqual([EXIT_1, line]);
    // kind never ran: it writes its log beside the scripts' locks.
    const scripts = path.join(state, "pulumi-kind-dev");
    expect(existsSync(path.join(scripts, "locks"))).toBe(true);
    expect(existsSync(path.join(scripts, `kind-create-${names.cluster}.log`))).toBe(false);
    expect(await clusterExists()).toBe(false);
  });
});
