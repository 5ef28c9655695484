/**
 * Runs the component's scripts as `@pulumi/command` does (`/bin/sh -c`), against the fake docker
 * and kind in test/unit/fakes, with a PATH that holds nothing else but the few tools the scripts
 * may use. Each test gets a fresh fake engine and a fresh state directory (XDG_STATE_HOME).
 * Also the builders the script tests share: scripts, containers as the scripts make them, seeds.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import {
  cacheContainerSpec,
  type ContainerSpec,
  describeSettings,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_ROLE,
  LABEL_SETTINGS,
  LABEL_SPEC,
  registryContainerSpec,
  specHash,
} from "../../../components/render/containerSpecs";
import { registryContainerScript, type Script, type Step } from "../../../components/scripts";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";

const FAKES = path.resolve(__dirname, "../fakes");
export const SCRIPTS_DIR = path.resolve(__dirname, "../../../components/scripts");
// Tools the scripts may use; every other command, docker and kind included, is absent unless
// the test puts a fake in place.
const TOOLS = "sh cat mktemp rm grep sleep curl node mv mkdir rmdir printenv tail tr ps".split(" ");

function which(tool: string): string {
  // test/unit/scripts/shells.sh puts BusyBox's applets first.
  const found = [process.env.KIND_DEV_TEST_TOOLS ?? [], "/usr/local/bin", "/usr/bin", "/bin"]
    .flat()
    .map((dir) => path.join(dir, tool))
    .find((p) => fs.existsSync(p));
  if (found === undefined) {
    throw new Error(`${tool} not found`);
  }
  return found;
}

/** scripts/FILE.sh as it is. */
export const readScript = (file: string) =>
  fs.readFileSync(path.join(SCRIPTS_DIR, `${file}.sh`), "utf8");

/**
 * The text a step runs for scripts/FILE.sh: `set -eu`, lib.sh, with `node` the function
 * node_script that prints hosts-node.sh, then the file.
 */
export const stepText = (file: string, node = false) =>
  `set -eu\n${readScript("lib")}\n${node ? `node_script() {\n  cat <<'KIND_DEV_NODE_SCRIPT'\n${readScript("hosts-node")}KIND_DEV_NODE_SCRIPT\n}\n` : ""}${readScript(file)}`;

export interface Call {
  tool: string;
  argv: string[];
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

/** The environment that seeds the fake engine (read on its first call). */
export function seed(state: Seed): Record<string, string> {
  return { FAKE_STATE: JSON.stringify(state) };
}

/** A 64-digit ID made of `digits` repeated: IDs a test can write down. */
export function fakeId(digits: string): string {
  return digits.repeat(64).slice(0, 64);
}

/** A pid that no process has any more. */
export function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

/** Registers the hooks of a test file that runs scripts; call it at the top of the file. */
export function scriptHarness() {
  let tmp = "";
  let bin = "";
  let log = "";
  let stateHome = "";
  let server: ChildProcess | undefined;
  const started: number[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-scripts-"));
    bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    for (const tool of TOOLS) {
      fs.symlinkSync(which(tool), path.join(bin, tool));
    }
    log = path.join(tmp, "calls.jsonl");
    // The fake docker answers from a process of its own where the client can reach it (it reads
    // the caller's environment from /proc), and runs as a node process per call elsewhere.
    if (process.platform === "linux") {
      server = spawn(process.execPath, [path.join(FAKES, "server"), path.join(tmp, "docker.sock")]);
      await new Promise((resolve) => server!.stdout!.once("data", resolve));
    }
  });

  afterAll(() => {
    server?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    fs.rmSync(log, { force: true });
    fs.rmSync(`${log}.state`, { force: true });
    stateHome = fs.mkdtempSync(path.join(tmp, "state-"));
    for (const fake of ["docker", "kind"]) {
      const file = fake === "docker" && server !== undefined ? "docker-client" : fake;
      fs.rmSync(path.join(bin, fake), { force: true });
      fs.symlinkSync(path.join(FAKES, file), path.join(bin, fake));
    }
  });

  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  function env(cmd: Script, extra: Record<string, string>): NodeJS.ProcessEnv {
    return { ...fakes(), XDG_STATE_HOME: stateHome, ...cmd.environment, ...extra };
  }

  /** PATH and what the fakes need. */
  function fakes(): Record<string, string> {
    const socket: Record<string, string> =
      server === undefined ? {} : { FAKE_DOCKER_SOCKET: path.join(tmp, "docker.sock") };
    return { PATH: bin, FAKE_LOG: log, ...socket };
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

  function sh(line: string, environment: NodeJS.ProcessEnv, args: string[] = []): Result {
    const r = spawnSync("/bin/sh", ["-c", line, ...args], { env: environment, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: calls() };
  }

  return {
    /** XDG_STATE_HOME of the current test; the package's state is in its pulumi-kind-dev/. */
    stateHome: () => stateHome,
    /** `<stateHome>/pulumi-kind-dev/<rel>`. */
    statePath: (rel: string) => path.join(stateHome, "pulumi-kind-dev", rel),
    /** Runs a script's step to its end. */
    run: (cmd: Script, phase: Step = "create", extra: Record<string, string> = {}) =>
      sh(text(cmd, phase), env(cmd, extra)),
    /** Starts a script's step and returns at once; the process is killed after the test. */
    start(cmd: Script, phase: Step = "create", extra: Record<string, string> = {}) {
      const child = spawn("/bin/sh", ["-c", text(cmd, phase)], {
        env: env(cmd, extra),
        stdio: ["ignore", "pipe", "pipe"],
      });
      started.push(child.pid!);
      return child;
    },
    /** `/bin/sh -c LINE ARGS...` with only `environment`, PATH and the fakes' log. */
    sh: (line: string, environment: Record<string, string>, args?: string[]) =>
      sh(line, { ...fakes(), ...environment }, args),
    /** The calls recorded so far. */
    calls,
    /** The fake engine now. */
    engine: () => JSON.parse(fs.readFileSync(`${log}.state`, "utf8")) as Engine,
    /** Forgets the engine and the calls: the next call seeds again. */
    resetEngine() {
      fs.rmSync(log, { force: true });
      fs.rmSync(`${log}.state`, { force: true });
    },
    withoutTool(tool: string) {
      fs.rmSync(path.join(bin, tool), { force: true });
    },
    /** A process that lives until killed after the test: a lock holder. Returns its pid. */
    sleeper() {
      const child = spawn("sleep", ["60"], { stdio: "ignore" });
      started.push(child.pid!);
      return child.pid!;
    },
    /** Kills `pid` after the test. */
    reap: (pid: number) => started.push(pid),
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

/** The lines a script printed on stderr. */
export const lines = (r: Result) => r.stderr.split("\n").filter((l) => l !== "");

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

export const REGISTRY_SPEC = registryContainerSpec(REGISTRY_INPUT);
export const CACHE_SPEC = cacheContainerSpec(DOCKER_HUB_CACHE_INPUT);
/** curl reads it at once: the registry "answers". */
export const PROBE = "file:///dev/null";
/** This package's label, for a seeded object. */
export const OURS = { [LABEL_MANAGED]: "true" };
/** The network `kind`, this package's: what the container scripts find once the network ran. */
export const NET = seed({ networks: [{ name: "kind", labels: OURS }] });
/** `docker ps` and `docker network ls` as lib.sh's exact-name lookups ask them. */
export const PS = ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"];
export const NETWORK_LS = ["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"];

/** The component's script for a registry or cache container (probed at PROBE by default). */
export function ensure(
  spec: ContainerSpec,
  options: {
    owner?: string;
    secretEnv?: Record<string, string>;
    removeOnDelete?: boolean;
    probeUrl?: string;
  } = {},
): Script {
  return registryContainerScript({
    spec,
    probeUrl: options.probeUrl ?? (spec.role === "registry" ? PROBE : undefined),
    secretEnv: options.secretEnv ?? {},
    state: "absent",
    removeOnDelete: options.removeOnDelete ?? false,
    ...(options.owner === undefined ? {} : { owner: options.owner }),
  });
}

/** A container as registry-ensure.sh makes it for `spec` (and these credentials, this owner). */
export function made(
  spec: ContainerSpec,
  over: {
    id?: string;
    owner?: string;
    secretEnv?: Record<string, string>;
    running?: boolean;
    image?: string;
    labels?: Record<string, string>;
  } = {},
): EngineContainer {
  const secretEnv = over.secretEnv ?? {};
  const names = Object.keys(secretEnv).sort();
  return {
    id: over.id ?? fakeId("0d"),
    name: spec.name,
    image: over.image ?? spec.image,
    labels: {
      ...OURS,
      [LABEL_ROLE]: spec.role,
      [LABEL_SPEC]: specHash(spec, names),
      [LABEL_SETTINGS]: describeSettings(spec, names),
      ...(over.owner === undefined ? {} : { [LABEL_OWNER]: over.owner }),
      ...over.labels,
    },
    env: [...Object.entries(spec.env), ...Object.entries(secretEnv)].map(([k, v]) => `${k}=${v}`),
    running: over.running ?? true,
    restarts: 0,
    networks: [spec.network],
    volumes: [spec.volume],
  };
}

/** The network and the volume of `spec`, both this package's, and these containers. */
export function world(spec: ContainerSpec, containers: Seed["containers"] = [], extra: Seed = {}) {
  return seed({
    ...extra,
    networks: [{ name: spec.network, labels: OURS }, ...(extra.networks ?? [])],
    volumes: [{ name: spec.volume, labels: OURS }, ...(extra.volumes ?? [])],
    containers: [...containers, ...(extra.containers ?? [])],
  });
}
