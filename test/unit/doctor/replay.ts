/**
 * The doctor's recorded sessions, replayed: every command the doctor ran on the end-to-end
 * environment (cluster kdev-doc, two nodes, registry kdev-doc-registry, cache
 * kdev-doc-cache-docker-io), healthy and with one fault at a time, and what each returned. A
 * fault session holds only what differed from the healthy one. A command the recording does not
 * have fails the test, so the doctor runs exactly what it ran for real.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { runDoctor } from "../../../components/doctor/doctor";
import { nodeScript } from "../../../components/doctor/facts";
import type { Exec, ExecResult } from "../../../components/exec";
import type { RegistryClient } from "../../../components/doctor/registryApi";
import type { CheckResult } from "../../../components/doctor/types";

type Call =
  | { argv: string[]; result: ExecResult }
  | { http: string; value: unknown }
  | { http: string; error: string };

function session(name: string): Call[] {
  return JSON.parse(
    readFileSync(path.join(__dirname, "recorded", "sessions", `${name}.json`), "utf8"),
  ) as Call[];
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

/** How the recordings write scripts/hosts-node.sh where a command passes it. */
export const NODE_SCRIPT_RECORDED = "(scripts/hosts-node.sh)";
const NODE_SCRIPT = nodeScript();

/** `pushBlob kind-dev-doctor sha256:...` -> `pushBlob`: the probe's digests depend on the CPU. */
const httpKey = (call: string) => call.split(" ")[0] ?? call;

export interface Replay {
  readonly exec: Exec;
  readonly registryClient: (base: string) => RegistryClient;
  /** Commands run that the recording does not have: the repairs. */
  readonly unrecorded: string[][];
}

/**
 * Answers from the fault session, else the healthy one. Once a repair has run, the environment
 * is taken to be healthy again (the end-to-end test checks that it really is).
 */
export function replay(fault: string | undefined): Replay {
  const layers = [fault === undefined ? [] : session(fault), HEALTHY];
  let repaired = false;
  const unrecorded: string[][] = [];
  const find = <T extends Call>(match: (c: Call) => c is T): T | undefined => {
    for (const layer of repaired ? [HEALTHY] : layers) {
      const found = layer.find(match);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  };
  const exec: Exec = async (file, args) => {
    const argv = [file, ...args];
    const key = JSON.stringify(argv.map((a) => (a === NODE_SCRIPT ? NODE_SCRIPT_RECORDED : a)));
    const call = find(
      (c): c is Extract<Call, { argv: string[] }> => "argv" in c && JSON.stringify(c.argv) === key,
    );
    if (call !== undefined) {
      return call.result;
    }
    const repair =
      (file === "docker" &&
        (args[0] === "start" || (args[0] === "network" && args[1] === "connect"))) ||
      (file === "docker" && args[0] === "exec" && args[1] === "-i");
    if (!repair) {
      throw new Error(`not in the recording: ${argv.join(" ")}`);
    }
    unrecorded.push(argv);
    repaired = true;
    return { code: 0, stdout: "", stderr: "", missing: false, timedOut: false };
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
  return { exec, registryClient, unrecorded };
}

export async function doctor(fault: string | undefined, fix = false) {
  const r = replay(fault);
  const report = await runDoctor({
    cluster: CLUSTER,
    kubeconfig: "KUBECONFIG",
    fix,
    exec: r.exec,
    registryClient: r.registryClient,
  });
  return { report, unrecorded: r.unrecorded };
}

export const rootFaults = (results: readonly CheckResult[]) =>
  results.filter((r) => r.status === "fail" && r.causedBy === undefined);
