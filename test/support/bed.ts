/**
 * Where the test bed keeps its tools and how the real Pulumi engine runs on it. Shared by the
 * integration, end-to-end and benchmark code; imports no test runner, so the benchmark harness
 * can use it as a plain program.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  type InlineProgramArgs,
  type LocalProgramArgs,
  LocalWorkspace,
  PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";

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

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") {
          reject(new Error("no port"));
        } else {
          resolve(address.port);
        }
      });
    });
  });
}

/**
 * Polls `check` every `everyMs` until it gives a value other than `undefined` or `false`, and
 * returns that value; throws after `timeoutMs`, with the last error `check` threw.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) {
        return value;
      }
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}: ${String(lastError ?? "no answer")}`,
      );
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

/** Runs a command with TOOLS_ENV (plus `env`): its stdout; throws with its stderr if it fails. */
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

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program with TOOLS_ENV (plus `env`) without blocking the event loop (a server in this
 * process keeps answering it); never throws for a non-zero exit; `input` is its standard input.
 */
export function runAsync(
  file: string,
  args: readonly string[],
  options: {
    env?: Readonly<Record<string, string>>;
    input?: string;
    timeoutMs?: number;
    cwd?: string;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...TOOLS_ENV, ...options.env },
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A command that exits without reading its input closes the pipe: not an error here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * `npm run up` in the repository, as a user's terminal runs it, with `env` as its whole
 * environment and `args` passed on to `pulumi up`: its status and its output, stdout and stderr
 * interleaved. Killed after `timeoutMs`.
 */
export function npmRunUp(
  env: NodeJS.ProcessEnv,
  timeoutMs = 600_000,
  args: readonly string[] = [],
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const script = args.length > 0 ? 'npm run up -- "$@" 2>&1' : "npm run up 2>&1";
    const child = spawn("bash", ["-c", script, "npm-run-up", ...args], {
      cwd: REPO_DIR,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/**
 * A plain registry:2 on `network`, published on 127.0.0.1:`port`, standing in for Docker Hub (or
 * another upstream); returns once it answers. `restartAlways`: it comes back with the daemon, as
 * the real upstream stays reachable across a local Docker restart.
 */
export async function startRegistryStandIn(
  name: string,
  network: string,
  port: number,
  opts: { restartAlways?: boolean } = {},
): Promise<void> {
  run("docker", [
    "run",
    "-d",
    "--name",
    name,
    "--network",
    network,
    ...(opts.restartAlways === true ? ["--restart", "always"] : []),
    "-p",
    `127.0.0.1:${port}:5000`,
    "registry:2",
  ]);
  await waitFor(
    `the registry ${name}`,
    60_000,
    () => tryRun("curl", ["-fsS", `http://127.0.0.1:${port}/v2/`]).ok,
  );
}

/**
 * Creates or selects a stack on the real engine with `envVars`: the Pulumi CLI in `cliRoot`/bin,
 * else the first on envVars' PATH, which becomes the process's (the Automation API looks there).
 */
export async function bedStack(
  args: LocalProgramArgs | InlineProgramArgs,
  envVars: Record<string, string>,
  cliRoot?: string,
): Promise<Stack> {
  if (!existsSync(path.join(BED_BIN, "pulumi"))) {
    throw new Error(`no pulumi CLI in ${BED_BIN}: run 'npm run testbed' first`);
  }
  if (cliRoot === undefined) {
    process.env["PATH"] = envVars["PATH"];
  }
  const root = cliRoot === undefined ? {} : { root: cliRoot };
  const opts = {
    pulumiCommand: await PulumiCommand.get({ skipVersionCheck: true, ...root }),
    envVars,
  };
  return "program" in args
    ? LocalWorkspace.createOrSelectStack(args, opts)
    : LocalWorkspace.createOrSelectStack(args, opts);
}

/** Fails with what to run when the end-to-end test bed (tools, node image) is not there. */
export function requireE2eBed(nodeImage: string): void {
  for (const tool of ["pulumi", "kind", "kubectl"]) {
    if (!existsSync(path.join(BED_BIN, tool))) {
      throw new Error(`${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' first`);
    }
  }
  if (!tryRun("docker", ["image", "inspect", nodeImage]).ok) {
    throw new Error(`node image ${nodeImage} is missing: run 'npm run testbed:e2e' first`);
  }
}
