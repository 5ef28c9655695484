/**
 * Where the test bed keeps its tools and how the real Pulumi engine runs on it. Shared by the
 * integration, end-to-end and benchmark code; imports no test runner, so the benchmark harness
 * can use it as a plain program.
 */
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_DIR = path.resolve(__dirname, "../..");

/** Same rule as test/bed/common.sh. */
export const BED_CACHE =
  process.env["KIND_DEV_BED_CACHE"] ??
  path.join(
    process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"),
    "pulumi-kind-dev-bed",
  );
export const BED_BIN = path.join(BED_CACHE, "bin");

/** The `docker` wrapper kind needs on these machines (see test/bed/docker-wrapper/docker). */
export const WRAPPER_DIR = path.join(REPO_DIR, "test/bed/docker-wrapper");

/**
 * Environment for the real Pulumi engine on the test bed, as test/bed/env.sh sets it: the CLI,
 * language host and kind from $BED_BIN, the exact plugin versions from the bed's PULUMI_HOME,
 * never a download, and a file backend in `backendDir`.
 */
export function pulumiEnv(backendDir: string, pathPrefix = ""): Record<string, string> {
  return {
    PATH: `${pathPrefix}${BED_BIN}:${process.env["PATH"] ?? ""}`,
    PULUMI_HOME: path.join(BED_CACHE, "pulumi-home"),
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "kind-dev-tests",
  };
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean,
  everyMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * PATH for commands the end-to-end tests and benchmarks run: the bed's tools, with the `docker`
 * wrapper first because kind's nodes need it on these machines (it passes everything else through).
 */
export const TOOLS_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${WRAPPER_DIR}:${BED_BIN}:${process.env["PATH"] ?? ""}`,
};

/**
 * Runs a command with TOOLS_ENV (plus `env`); throws with its stderr when it fails. Returns
 * stdout.
 */
export function run(
  file: string,
  args: string[],
  opts: { input?: string; cwd?: string; env?: Readonly<Record<string, string>> } = {},
): string {
  const r = spawnSync(file, args, {
    env: { ...TOOLS_ENV, ...opts.env },
    cwd: opts.cwd,
    encoding: "utf8",
    input: opts.input ?? "",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(
      `${file} ${args.join(" ")} exited ${r.status}: ${r.stderr?.slice(-2000)} ${r.error ?? ""}`,
    );
  }
  return r.stdout;
}

/** Runs a command with TOOLS_ENV whatever its exit code: whether it succeeded, and its output. */
export function tryRun(file: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(file, args, {
    env: TOOLS_ENV,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/**
 * A plain registry:2 on `network`, published on 127.0.0.1:`port`, standing in for Docker Hub;
 * returns once it answers.
 */
export async function startRegistryStandIn(
  name: string,
  network: string,
  port: number,
): Promise<void> {
  run("docker", [
    "run",
    "-d",
    "--name",
    name,
    "--network",
    network,
    "-p",
    `127.0.0.1:${port}:5000`,
    "registry:2",
  ]);
  await waitFor(
    `the registry ${name}`,
    60_000,
    () => tryRun("curl", ["-fsS", `http://127.0.0.1:${port}/v2/`]).ok,
    250,
  );
}
