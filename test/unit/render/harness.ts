/**
 * Runs the component's scripts as `@pulumi/command` does (`/bin/sh -c`), against the fake docker
 * and kind in test/unit/fakes, with a PATH that holds nothing else but the few tools the scripts
 * may use. Each test gets a fresh fake engine and a fresh state directory (XDG_STATE_HOME).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { Script, Step } from "../../../components/scripts";

const FAKES = path.resolve(__dirname, "../fakes");
// Tools the scripts may use; every other command, docker and kind included, is absent unless
// the test puts a fake in place.
const TOOLS = [
  "sh",
  "cat",
  "mktemp",
  "rm",
  "grep",
  "sleep",
  "curl",
  "node",
  "mv",
  "mkdir",
  "rmdir",
  "printenv",
  "tail",
  "tr",
  "ps",
];

function which(tool: string): string {
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin"]) {
    const p = path.join(dir, tool);
    if (fs.existsSync(p) && !(tool === "docker" || tool === "kind")) {
      return p;
    }
  }
  throw new Error(`${tool} not found`);
}

export interface Call {
  tool: string;
  argv: string[];
  stdin?: string | null;
  config?: string | null;
  envValues?: Record<string, string | null>;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
}

/** What the fake engine holds (test/unit/fakes/engine). */
export interface EngineContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  env: string[];
  running: boolean;
  restarts: number;
  networks: string[];
  volumes: string[];
  files?: string;
}
export interface Engine {
  containers: EngineContainer[];
  networks: { id: string; name: string; labels: Record<string, string> }[];
  volumes: { name: string; labels: Record<string, string> }[];
  images: string[] | null;
}
/** A seed: like Engine, with IDs and defaults optional. */
export interface Seed {
  containers?: (Partial<EngineContainer> & { name: string })[];
  networks?: { id?: string; name: string; labels?: Record<string, string> }[];
  volumes?: { name: string; labels?: Record<string, string> }[];
  images?: string[] | null;
}

export interface Harness {
  /** The directory on PATH. */
  readonly bin: () => string;
  /** XDG_STATE_HOME of the current test; the package's state is in its pulumi-kind-dev/. */
  readonly stateHome: () => string;
  /** `<stateHome>/pulumi-kind-dev/<rel>`. */
  readonly statePath: (rel: string) => string;
  /** Runs a script to its end. */
  run(cmd: Script, phase?: Step, extra?: Record<string, string>): Result;
  /** Starts a script and returns at once. */
  start(cmd: Script, phase?: Step, extra?: Record<string, string>): ChildProcess;
  /** The calls recorded so far. */
  calls(): Call[];
  /** The fake engine now. */
  engine(): Engine;
  /** Forgets the engine and the calls: the next call seeds again. */
  resetEngine(): void;
  withoutTool(tool: string): void;
}

/** The environment that seeds the fake engine (read on its first call). */
export function seed(state: Seed): Record<string, string> {
  return { FAKE_STATE: JSON.stringify(state) };
}

/** A 64-digit ID made of `digits` repeated: IDs a test can write down. */
export function fakeId(digits: string): string {
  return digits.repeat(64).slice(0, 64);
}

/** Registers the hooks of a test file that runs scripts; call it at the top of the file. */
export function scriptHarness(): Harness {
  let tmp = "";
  let bin = "";
  let log = "";
  let stateHome = "";

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-scripts-"));
    bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    for (const tool of TOOLS) {
      fs.symlinkSync(which(tool), path.join(bin, tool));
    }
    log = path.join(tmp, "calls.jsonl");
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeEach(() => {
    fs.rmSync(log, { force: true });
    fs.rmSync(`${log}.state`, { force: true });
    stateHome = fs.mkdtempSync(path.join(tmp, "state-"));
    for (const fake of ["docker", "kind"]) {
      fs.rmSync(path.join(bin, fake), { force: true });
      fs.symlinkSync(path.join(FAKES, fake), path.join(bin, fake));
    }
  });

  function env(cmd: Script, extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      PATH: bin,
      FAKE_LOG: log,
      XDG_STATE_HOME: stateHome,
      ...cmd.environment,
      ...extra,
    };
  }

  function text(cmd: Script, phase: Step): string {
    const t = cmd[phase];
    if (t === undefined) {
      throw new Error(`no ${phase} script`);
    }
    return t;
  }

  function calls(): Call[] {
    return fs.existsSync(log)
      ? fs
          .readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Call)
      : [];
  }

  return {
    bin: () => bin,
    stateHome: () => stateHome,
    statePath: (rel) => path.join(stateHome, "pulumi-kind-dev", rel),
    run(cmd, phase = "create", extra = {}) {
      const result = spawnSync("/bin/sh", ["-c", text(cmd, phase)], {
        env: env(cmd, extra),
        encoding: "utf8",
      });
      return {
        status: result.status,
        stdout: result.stdout,
        stderr: result.stderr,
        calls: calls(),
      };
    },
    start(cmd, phase = "create", extra = {}) {
      return spawn("/bin/sh", ["-c", text(cmd, phase)], {
        env: env(cmd, extra),
        stdio: ["ignore", "pipe", "pipe"],
      });
    },
    calls,
    engine: () => JSON.parse(fs.readFileSync(`${log}.state`, "utf8")) as Engine,
    resetEngine() {
      fs.rmSync(log, { force: true });
      fs.rmSync(`${log}.state`, { force: true });
    },
    withoutTool(tool) {
      fs.rmSync(path.join(bin, tool), { force: true });
    },
  };
}

/** Calls that change something (the rest only read). */
export function acts(calls: readonly Call[]): string[][] {
  return calls
    .filter(
      (c) =>
        ["run", "rm", "start", "stop", "pull", "exec"].includes(c.argv[0]!) ||
        (["volume", "network"].includes(c.argv[0]!) && ["create", "rm"].includes(c.argv[1]!)) ||
        (c.tool === "kind" && ["create", "delete"].includes(c.argv[0]!)),
    )
    .map((c) => (c.tool === "kind" ? ["kind", ...c.argv] : c.argv));
}

/** Resolves once `check` holds (polled every 50 ms), failing after `ms`. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves with the exit code (or signal) of a started script. */
export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
}
