/**
 * Output recorded from real commands, read by the doctor's unit tests (recorded/README.md says
 * how each file was made), and the doctor's recorded sessions, replayed:
 * every command the doctor ran on the end-to-end environment (cluster kdev-doc, two nodes,
 * registry kdev-doc-registry, cache kdev-doc-cache-docker-io), healthy and with one fault at a
 * time, and what each returned. A fault session holds only what differed from the healthy one.
 * A command the recording does not have fails the test, so the doctor runs exactly what it ran
 * for real, and repairs exactly as the test says.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { runDoctor } from "../../../components/doctor/doctor";
import { nodeScript } from "../../../components/doctor/facts";
import {
  type ContainerInfo,
  parseContainers,
  parseHostsList,
} from "../../../components/doctor/parse";
import type { RegistryClient } from "../../../components/doctor/registryApi";
import type { CheckResult } from "../../../components/doctor/checks";
import type { Exec, ExecResult } from "../../../components/exec";

export function recorded(file: string): string {
  return readFileSync(path.join(__dirname, "recorded", file), "utf8");
}

export function ok(stdout: string): ExecResult {
  return { code: 0, stdout, stderr: "", missing: false, timedOut: false };
}

export function failed(code: number, stderr: string, stdout = ""): ExecResult {
  return { code, stdout, stderr, missing: false, timedOut: false };
}

export const NOT_ON_PATH: ExecResult = { ...failed(-1, ""), missing: true };

/** One command the doctor ran, or one call of the registry's HTTP API, and its outcome. */
export type Call =
  | { argv: string[]; result: ExecResult }
  | { http: string; value: unknown }
  | { http: string; error: string };

/** A session's calls; a result leaves out the fields that have their usual value (exit 0, ...). */
function session(name: string): Call[] {
  const calls = JSON.parse(recorded(`sessions/${name}.json`)) as Call[];
  return calls.map((c) => ("argv" in c ? { ...c, result: { ...ok(""), ...c.result } } : c));
}

export const HEALTHY = session("healthy");
export const CLUSTER = "kdev-doc";
export const NETWORK = "kdev-doc";
export const REGISTRY = "kdev-doc-registry";
export const CACHE = "kdev-doc-cache-docker-io";
export const CP = "kdev-doc-control-plane";
export const WORKER = "kdev-doc-worker";
/** The registry's host port in this recording (a free port picked by the test). */
export const PORT = Number(
  /localhost:(\d+)/.exec(
    JSON.stringify(HEALTHY.find((c) => "argv" in c && c.argv.includes("pull"))),
  )?.[1],
);

/** What the command of the healthy session whose arguments include all of `args` printed. */
export function healthyOutput(...args: string[]): string {
  const call = HEALTHY.find((c) => "argv" in c && args.every((a) => c.argv.includes(a)));
  return call !== undefined && "argv" in call ? call.result.stdout : "";
}

/** What `docker container inspect` printed for the registry and the cache in this recording. */
export const HEALTHY_INSPECT = healthyOutput("inspect", REGISTRY);
const [CACHE_INSPECTED, REGISTRY_INSPECTED] = parseContainers(HEALTHY_INSPECT);

/** Recorded containers, parsed: the healthy session's registry and cache, and a cache restarting. */
export const INSPECT = {
  registry: REGISTRY_INSPECTED as ContainerInfo,
  cache: CACHE_INSPECTED as ContainerInfo,
  cacheRestarting: parseContainers(recorded("cache-restarting.inspect.json"))[0] as ContainerInfo,
};

/** How the recordings write scripts/hosts-node.sh where a command passes it. */
export const NODE_SCRIPT_RECORDED = "(scripts/hosts-node.sh)";
const NODE_SCRIPT = nodeScript();

/** `pushBlob kind-dev-doctor sha256:...` -> `pushBlob`: the probe's digests depend on the CPU. */
const httpKey = (call: string) => call.split(" ")[0] ?? call;

/** A command the recording does not have (a repair), with the input and environment it got. */
export interface Run {
  readonly argv: readonly string[];
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
}

export interface Replay {
  readonly exec: Exec;
  readonly registryClient: (base: string) => RegistryClient;
  /** Commands run that the recording does not have: the repairs. */
  readonly ran: Run[];
}

/**
 * Answers from the fault session, else the healthy one. The one command it runs that the
 * recording does not have is `repair`, exactly as given (argv, input, environment): after it the
 * fault is gone, and the replay answers from the healthy session (the end-to-end test checks
 * that the environment really is healthy then). Any other command, a repair that differs by one
 * byte included, fails the run.
 */
export function replay(fault?: string, repair?: Run): Replay {
  const layers = [fault === undefined ? [] : session(fault), HEALTHY];
  let repaired = false;
  const ran: Run[] = [];
  const find = <T extends Call>(match: (c: Call) => c is T): T | undefined =>
    (repaired ? HEALTHY : layers.flat()).find(match);
  const exec: Exec = async (file, args, options = {}) => {
    const argv = [file, ...args];
    const key = JSON.stringify(argv.map((a) => (a === NODE_SCRIPT ? NODE_SCRIPT_RECORDED : a)));
    const call = find(
      (c): c is Extract<Call, { argv: string[] }> => "argv" in c && JSON.stringify(c.argv) === key,
    );
    if (call !== undefined) {
      return call.result;
    }
    const { input, env } = options;
    const run: Run = { argv, ...(input === undefined ? {} : { input }), ...(env ? { env } : {}) };
    ran.push(run);
    if (repair === undefined || !isDeepStrictEqual(run, repair)) {
      throw new Error(`not in the recording, nor the repair expected: ${JSON.stringify(run)}`);
    }
    repaired = true;
    return ok("");
  };
  const http = async (name: string): Promise<never> => {
    const call = find(
      (c): c is Extract<Call, { http: string }> => "http" in c && httpKey(c.http) === name,
    );
    if (call === undefined) {
      throw new Error(`not in the recording: HTTP ${name}`);
    }
    if ("error" in call) {
      throw new Error(call.error);
    }
    return call.value as never;
  };
  const registryClient = (): RegistryClient => ({
    ping: () => http("ping"),
    pushBlob: () => http("pushBlob"),
    putManifest: () => http("putManifest"),
    deleteManifest: () => http("deleteManifest"),
  });
  return { exec, registryClient, ran };
}

/** The doctor on a session (with --registry if given); with `fix`, --fix, which must run exactly `repair`. */
export async function doctor(
  fault?: string,
  { fix = false, repair, registry }: { fix?: boolean; repair?: Run; registry?: string } = {},
) {
  const r = replay(fault, repair);
  const report = await runDoctor({
    cluster: CLUSTER,
    kubeconfig: "KUBECONFIG",
    ...(registry === undefined ? {} : { registry }),
    fix,
    exec: r.exec,
    registryClient: r.registryClient,
  });
  return { report, ran: r.ran };
}

/** A node's hosts.toml files in the healthy recording: what the component's command wrote. */
export function recordedHosts(node: string): Record<string, string> {
  return parseHostsList(healthyOutput(node, "--list"));
}

export const rootFaults = (results: readonly CheckResult[]) =>
  results.filter((r) => r.status === "fail" && r.causedBy === undefined);
