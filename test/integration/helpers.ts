/**
 * Shared by the integration tests: the test bed's environment, a `docker` runner, the component's
 * shell commands (registry and cache containers included) rendered and run the way the component
 * and `@pulumi/command` run them, and the node stand-in built by test/bed/images.sh.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { type ResolvedConfig, resolveConfig } from "../../components/config";
import type { CacheArgs, KindDevEnvironmentArgs } from "../../components/args";
import { lookupContainer } from "../../components/lookup";
import type { ContainerSpec } from "../../components/render/containerSpecs";
import { networkScript, registryContainerScript, type Script } from "../../components/scripts";

import { BED_BIN, freePort, REPO_DIR, runAsync, type RunResult, waitFor } from "../support/bed";

export {
  BED_BIN,
  freePort,
  pulumiEnv,
  REPO_DIR,
  runAsync,
  type RunResult,
  waitFor,
} from "../support/bed";
export const BED_DIR = path.join(REPO_DIR, "test/bed");

/** Images built by test/bed/images.sh. */
export const BED_IMAGES = {
  /** distribution v3: the component's default registryImage. */
  registry: "registry:3",
  /** distribution 2.8: still supported, and what earlier versions of this package ran. */
  registry2: "registry:2",
  nodeStandin: "kind-dev-bed/node-standin:latest",
  testImage: "kind-dev-bed/testimg:1",
  /** A debootstrap'ed Debian: sh, sleep, a base to build on. */
  debian: "kind-dev-bed/debian:bookworm",
} as const;
/** Label on everything these tests create, with the run id as value. */
export const TEST_LABEL = "dev.pulumi-kind-dev.integration-test";

/** The process environment with $BED_BIN first on PATH, as every bed command runs. */
export function bedEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${BED_BIN}:${process.env["PATH"] ?? ""}`, ...extra };
}

const IN_CI = ["true", "1", "yes"].includes((process.env["CI"] ?? "").toLowerCase());

/** Whether a docker daemon answers through the bed's `docker`. */
const DOCKER_UP = ((): boolean => {
  try {
    execFileSync("docker", ["info"], { env: bedEnv(), stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();
if (!DOCKER_UP && !IN_CI) {
  console.warn(
    "[integration] SKIPPED: no docker daemon answers ('docker info' failed). Run test/bed/docker.sh " +
      "to install and start one. Under CI=true these tests fail instead.",
  );
}

/**
 * `describe` for tests that need docker: skipped with a message when no daemon answers and CI is
 * unset; under CI a missing daemon fails the suite (checkDocker in beforeAll).
 */
export function describeDocker(name: string, body: () => void): void {
  if (DOCKER_UP || IN_CI) {
    describe(name, body);
  } else {
    describe.skip(`${name} (skipped: no docker daemon answers)`, body);
  }
}

function describeRun(what: string, r: RunResult): string {
  return `${what} exited ${r.code}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`;
}

/** `docker ARGS`; throws with the output when it fails. Returns stdout. */
export async function docker(args: readonly string[]): Promise<string> {
  const r = await runAsync("docker", args);
  if (r.code !== 0) {
    throw new Error(describeRun(`docker ${args.join(" ")}`, r));
  }
  return r.stdout;
}

/** `docker ARGS`, result whatever the exit code. */
export function dockerResult(args: readonly string[]): Promise<RunResult> {
  return runAsync("docker", args);
}

/** Fails the suite under CI when docker is missing; builds the bed's images (fast when done). */
export async function prepareBed(): Promise<void> {
  if (!DOCKER_UP) {
    throw new Error(
      "no docker daemon answers ('docker info' failed) and CI is set: run test/bed/docker.sh first",
    );
  }
  const r = await runAsync("bash", [path.join(BED_DIR, "images.sh")], { timeoutMs: 900_000 });
  if (r.code !== 0) {
    throw new Error(describeRun("test/bed/images.sh", r));
  }
}

/**
 * Runs one of the component's shell commands as `@pulumi/command`'s local.Command does:
 * `/bin/sh -c SCRIPT` with the command's environment on top of the process's.
 */
export async function runScript(
  cmd: Script,
  phase: "create" | "delete" = "create",
): Promise<RunResult> {
  const script = phase === "create" ? cmd.create : cmd.delete;
  if (script === undefined) {
    throw new Error(`the command has no ${phase} script`);
  }
  return runAsync("/bin/sh", ["-c", script], { env: cmd.environment });
}

/** Same, throwing with the output when the script fails. */
export async function runScriptOk(
  cmd: Script,
  phase: "create" | "delete" = "create",
): Promise<RunResult> {
  const r = await runScript(cmd, phase);
  if (r.code !== 0) {
    throw new Error(describeRun(`${phase} script`, r));
  }
  return r;
}

export interface RegistryCommandOptions {
  /** The stack's own cluster, whose nodes do not keep a removed registry. */
  readonly ownCluster?: string;
  /** Registry URL the script polls after start (the push registry); caches are not probed. */
  readonly probeUrl?: string;
  /** Extra (secret) variables, as the component adds cache credentials. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** The component's `!retainOnDestroy`: whether the command has a delete script. */
  readonly removeOnDelete?: boolean;
}

/**
 * The command the component renders for a registry or cache container, with REPAIR from the
 * same lookup the program makes at run time.
 */
export async function componentRegistryScript(
  spec: ContainerSpec,
  options: RegistryCommandOptions = {},
): Promise<Script> {
  const { state, repair } = await lookupContainer(spec.name, spec.volume);
  return registryContainerScript({
    spec,
    probeUrl: options.probeUrl,
    secretEnv: options.secretEnv ?? {},
    state,
    repairMark: repair,
    removeOnDelete: options.removeOnDelete ?? false,
    ownCluster: options.ownCluster,
  });
}

/** Renders the component's command for a container and runs its create script; throws when it fails. */
export async function ensureRegistryContainerOk(
  spec: ContainerSpec,
  options: RegistryCommandOptions = {},
): Promise<RunResult> {
  return runScriptOk(await componentRegistryScript(spec, options));
}

/** What the tests look at in `docker container inspect`. */
export interface ContainerInfo {
  readonly id: string;
  readonly startedAt: string;
  readonly running: boolean;
  readonly restarting: boolean;
  readonly restartCount: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  readonly volumes: readonly string[];
  readonly image: string;
}

/** `docker container inspect NAME`, or undefined when there is no such container. */
export async function containerInfo(name: string): Promise<ContainerInfo | undefined> {
  const r = await dockerResult(["container", "inspect", name]);
  if (r.code !== 0) {
    return undefined;
  }
  const [c] = JSON.parse(r.stdout) as {
    Id: string;
    RestartCount: number;
    State: { StartedAt: string; Running: boolean; Restarting: boolean };
    Config: { Labels: Record<string, string> | null; Env: string[] | null; Image: string };
    Mounts: { Type: string; Name?: string }[];
  }[];
  if (c === undefined) {
    return undefined;
  }
  return {
    id: c.Id,
    startedAt: c.State.StartedAt,
    running: c.State.Running,
    restarting: c.State.Restarting,
    restartCount: c.RestartCount,
    labels: c.Config.Labels ?? {},
    env: c.Config.Env ?? [],
    volumes: c.Mounts.filter((m) => m.Type === "volume").map((m) => m.Name ?? ""),
    image: c.Config.Image,
  };
}

/** Same, failing when the container does not exist. */
export async function mustContainerInfo(name: string): Promise<ContainerInfo> {
  const info = await containerInfo(name);
  if (info === undefined) {
    throw new Error(`no container named ${name}`);
  }
  return info;
}

/** True when a docker volume of that name exists. */
export async function volumeExists(name: string): Promise<boolean> {
  return (await dockerResult(["volume", "inspect", name])).code === 0;
}

/** Waits until `GET url` answers 200 (a registry's `/v2/`); each try gives up after 3 s. */
export async function waitForHttpOk(url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`GET ${url}`, timeoutMs, async () =>
    (await http(url, {}, 3_000)).status === 200 ? true : undefined,
  );
}

/** A random suffix for names of this run. */
export function runId(): string {
  return randomBytes(4).toString("hex");
}

/** How a TCP connect to host:port ends, within timeoutMs. */
export function tcpConnect(
  host: string,
  port: number,
  timeoutMs = 3_000,
): Promise<"connected" | "refused" | "timeout" | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: string): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.on("connect", () => done("connected"));
    socket.on("error", (e: NodeJS.ErrnoException) =>
      done(e.code === "ECONNREFUSED" ? "refused" : (e.code ?? e.message)),
    );
  });
}

/** The machine's own non-loopback IPv4 addresses (`ip -4 -o addr show`). */
export function localNonLoopbackIPv4(): string[] {
  const out = execFileSync("ip", ["-4", "-o", "addr", "show"], { env: bedEnv() }).toString();
  const addrs = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (m?.[1] !== undefined && !m[1].startsWith("127.")) {
      addrs.add(m[1]);
    }
  }
  return [...addrs];
}

/** Plain HTTP request to a registry on this machine. */
export async function http(
  url: string,
  init: RequestInit = {},
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";

/** The repositories a registry on 127.0.0.1:`port` lists. */
export async function catalog(port: number): Promise<string[]> {
  const r = await http(`http://127.0.0.1:${port}/v2/_catalog`);
  return (JSON.parse(r.body) as { repositories: string[] }).repositories;
}

/** A container's log, stdout and stderr. */
export async function logsOf(container: string): Promise<string> {
  const r = await dockerResult(["logs", container]);
  return r.stdout + r.stderr;
}

const sha256 = (data: Buffer): string =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * GETs `repo:tag`'s manifest and every blob it names from the registry on 127.0.0.1:`port`, as a
 * pull does; throws unless each answers 200 with the content its digest names. Returns the
 * manifest's digest, then the blobs'.
 */
export async function fetchImage(port: number, repo: string, tag = "1"): Promise<string[]> {
  const base = `http://127.0.0.1:${port}/v2/${repo}`;
  const get = async (url: string, accept?: string): Promise<Buffer> => {
    const r = await fetch(url, {
      ...(accept === undefined ? {} : { headers: { Accept: accept } }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) {
      throw new Error(`GET ${url}: ${r.status} ${body.toString()}`);
    }
    return body;
  };
  const body = await get(`${base}/manifests/${tag}`, MANIFEST_V2);
  const manifest = JSON.parse(body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  for (const digest of blobs) {
    const blob = await get(`${base}/blobs/${digest}`);
    if (sha256(blob) !== digest) {
      throw new Error(`blob ${digest} of ${repo} came back as ${sha256(blob)}`);
    }
  }
  return [sha256(body), ...blobs];
}

/** Everything a test created, removed in reverse order by `cleanup()`. */
export class Resources {
  private readonly containers: string[] = [];
  private readonly volumes: string[] = [];
  private readonly networks: string[] = [];
  private readonly images: string[] = [];
  private readonly dirs: string[] = [];

  private add = (list: string[]) => (name: string) => (list.push(name), name);
  readonly container = this.add(this.containers);
  readonly volume = this.add(this.volumes);
  readonly network = this.add(this.networks);
  readonly image = this.add(this.images);
  /**
   * `docker run -d --name NAME` with the test label for run `id` and `labels`, on `network`
   * when given, then `args` (other flags, the image, its command); removed by cleanup().
   */
  async run(
    name: string,
    id: string,
    opts: { network?: string; labels?: Readonly<Record<string, string>> },
    ...args: string[]
  ): Promise<string> {
    const labels = Object.entries({ ...opts.labels, [TEST_LABEL]: id });
    await docker([
      "run",
      "-d",
      "--name",
      this.container(name),
      ...(opts.network === undefined ? [] : ["--network", opts.network]),
      ...labels.flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      ...args,
    ]);
    return name;
  }
  tempDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kind-dev-it-"));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    if (!DOCKER_UP) {
      return;
    }
    for (const c of [...this.containers].reverse()) {
      await dockerResult(["rm", "-f", "-v", c]);
    }
    for (const v of this.volumes) {
      await dockerResult(["volume", "rm", "-f", v]);
    }
    for (const n of this.networks) {
      await dockerResult(["network", "rm", n]);
    }
    for (const i of this.images) {
      await dockerResult(["image", "rm", i]);
    }
    for (const d of this.dirs) {
      rmSync(d, { recursive: true, force: true });
    }
  }
}

/** What the tests of one `describe` share: names of this run, what to remove, free ports. */
export interface BedSuite {
  readonly id: string;
  readonly res: Resources;
  /** `kdt-net-<id>`, created in beforeAll as the component's network command creates it. */
  readonly network: string;
  /** The i-th free port taken in beforeAll. */
  port(i: number): number;
  /** The component's plan for names of this run (`kdt-<id>`...) on the network, with `args`. */
  config(args?: KindDevEnvironmentArgs): ResolvedConfig;
  /** The plan with one Docker Hub cache in front of `upstream` (a container on the network). */
  cacheConfig(
    upstream: string,
    cache: Omit<CacheArgs, "upstreamHost" | "remoteUrl">,
    args?: KindDevEnvironmentArgs,
  ): ResolvedConfig;
}

/**
 * Call inside a `describe`: in beforeAll, builds the bed's images, takes `ports` free ports and
 * creates the suite's network; in afterAll, removes everything the tests registered.
 */
export function bedSuite(ports = 0): BedSuite {
  const id = runId();
  const res = new Resources();
  const network = `kdt-net-${id}`;
  const free = new Set<number>();
  const config = (args: KindDevEnvironmentArgs = {}): ResolvedConfig =>
    resolveConfig({
      clusterName: `kdt-${id}`,
      networkName: network,
      registryName: `kdt-reg-${id}`,
      caches: [],
      ...args,
    });
  beforeAll(async () => {
    await prepareBed();
    while (free.size < ports) {
      free.add(await freePort());
    }
    res.network(network);
    await runScriptOk(networkScript(network, true));
  });
  afterAll(() => res.cleanup());
  return {
    id,
    res,
    network,
    port(i) {
      const p = [...free][i];
      if (p === undefined) {
        throw new Error(`port ${i} of ${free.size} taken for this suite`);
      }
      return p;
    },
    config,
    cacheConfig: (upstream, cache, args = {}) =>
      config({
        ...args,
        caches: [{ upstreamHost: "docker.io", remoteUrl: `http://${upstream}:5000`, ...cache }],
      }),
  };
}

/** Where the node stand-in reads containerd config patches (see test/bed/images.sh). */
const STANDIN_PATCH_DIR = "/etc/containerd/patches";

/**
 * Starts a node stand-in (Debian + containerd 1.6, kind-like: no config_path until a patch sets
 * it) named like a kind node, with `patch` as its containerd config patch, and waits until its
 * CRI plugin answers. Flags: SYS_ADMIN to mount snapshots while unpacking, a tmpfs for
 * /var/lib/containerd so the overlayfs snapshotter works and nothing is left behind. `image` is
 * another stand-in built on it, e.g. one of test/bed/containerd-matrix.sh's.
 */
export async function startNodeStandin(
  res: Resources,
  name: string,
  network: string,
  patch: string,
  id: string,
  image: string = BED_IMAGES.nodeStandin,
): Promise<void> {
  res.container(name);
  await docker([
    "create",
    ...["--name", name, "--hostname", name, "--network", network, "--label", `${TEST_LABEL}=${id}`],
    ...["--cap-add", "SYS_ADMIN", "--tmpfs", "/var/lib/containerd", image],
  ]);
  const dir = res.tempDir();
  const file = path.join(dir, "50-kind-dev.toml");
  writeFileSync(file, patch.endsWith("\n") ? patch : `${patch}\n`);
  await docker(["cp", file, `${name}:${STANDIN_PATCH_DIR}/50-kind-dev.toml`]);
  await docker(["start", name]);
  await waitFor(`containerd's CRI plugin in ${name}`, 30_000, async () => {
    const r = await dockerResult(["exec", name, "cri-pull", "version"]);
    return r.code === 0 ? r.stdout : undefined;
  });
}

/** `cri-pull pull IMAGE` in a node: a pull through containerd's CRI plugin, as the kubelet does. */
export function criPull(node: string, image: string): Promise<RunResult> {
  return dockerResult(["exec", node, "cri-pull", "pull", image]);
}

/**
 * A plain registry (not the component's) named `name` on `network`, published on
 * 127.0.0.1:`port`, holding the test image as `repo:1`: the stand-in for Docker Hub.
 */
export async function startUpstream(
  res: Resources,
  name: string,
  network: string,
  port: number,
  repo: string,
  id: string,
): Promise<void> {
  await res.run(name, id, { network }, "--publish", `127.0.0.1:${port}:5000`, BED_IMAGES.registry);
  await waitForHttpOk(`http://127.0.0.1:${port}/v2/`);
  await pushTestImage(res.image(`localhost:${port}/${repo}:1`));
}

/** Tags the bed's test image as `ref` and pushes it. */
export async function pushTestImage(ref: string): Promise<void> {
  await docker(["tag", BED_IMAGES.testImage, ref]);
  await docker(["push", ref]);
}
