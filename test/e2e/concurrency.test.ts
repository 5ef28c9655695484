/**
 * Two terminals, two stacks, one `npm run up` each, at the same moment, on a real kind cluster:
 *   1. both name the same cluster: one makes it; the other waits for it (the cluster's lock),
 *      then refuses it as not its own. Nobody stops the other's kind, the cluster made is whole,
 *      and there is one registry, adopted by the second stack, not made twice.
 * (A stack sharing another stack's cache with other settings: test/integration/ownership.test.ts,
 * case 4.)
 * Needs `npm run testbed:e2e`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  npmRunUp,
  pulumiEnv,
  REPO_DIR,
  requireE2eBed,
  run,
  TOOLS_ENV,
  tryRun,
  WRAPPER_DIR,
} from "../support/bed";
import { containerRunning, NODE_IMAGE } from "../support/lifecycle";

const PID = process.pid;
const NAMES = {
  cluster: "kdev-cc",
  network: "kdev-cc",
  registry: "kdev-cc-registry",
  cache: "kdev-cc-cache",
};
const STACKS = [`cc-a-${PID}`, `cc-b-${PID}`] as const;

let backend: string;
/** The two terminals' XDG_STATE_HOME (locks, markers, kind's log): not the contributor's own. */
let state: string;
let port: number;
let upstreamPort: number;

function stackFile(stack: string): string {
  return path.join(REPO_DIR, "stacks/dev", `Pulumi.${stack}.yaml`);
}

/** The user's stack file: the same names for every stack. */
function writeStack(stack: string): void {
  const caches = JSON.stringify([
    {
      upstreamHost: "docker.io",
      remoteUrl: `http://127.0.0.1:${upstreamPort}`,
      containerName: NAMES.cache,
    },
  ]);
  writeFileSync(
    stackFile(stack),
    [
      "config:",
      `  kind-dev:clusterName: ${NAMES.cluster}`,
      `  kind-dev:networkName: ${NAMES.network}`,
      `  kind-dev:registryName: ${NAMES.registry}`,
      `  kind-dev:registryPort: ${port}`,
      `  kind-dev:nodeImage: ${NODE_IMAGE}`,
      `  kind-dev:caches: '${caches}'`,
      "",
    ].join("\n"),
  );
}

/** `npm run up` for one stack, as a user's terminal runs it. */
function up(stack: string): Promise<{ code: number; output: string }> {
  return npmRunUp({
    ...TOOLS_ENV,
    ...pulumiEnv(backend, `${WRAPPER_DIR}:`),
    KIND_DEV_STACK: stack,
    XDG_STATE_HOME: state,
  });
}

function containersNamed(name: string): string[] {
  return run("docker", ["ps", "-a", "--filter", `name=^/${name}$`, "--format", "{{.ID}}"])
    .split("\n")
    .filter((l) => l !== "");
}

describe("two pulumi up at once", () => {
  beforeAll(async () => {
    requireE2eBed(NODE_IMAGE);
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-cc-"));
    state = mkdtempSync(path.join(os.tmpdir(), "kind-dev-cc-state-"));
    port = await freePort();
    // The cache's upstream: nothing answers there; the cache only has to exist.
    upstreamPort = await freePort();
  });

  afterAll(() => {
    tryRun("kind", ["delete", "cluster", "--name", NAMES.cluster]);
    for (const name of [NAMES.registry, NAMES.cache]) {
      tryRun("docker", ["rm", "-f", name]);
      tryRun("docker", ["volume", "rm", `${name}-data`]);
    }
    tryRun("docker", ["network", "rm", NAMES.network]);
    for (const stack of STACKS) {
      rmSync(stackFile(stack), { force: true });
    }
    rmSync(backend, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  it("the same cluster from two stacks: one makes it, the other waits and refuses; nothing is killed", async () => {
    writeStack(STACKS[0]);
    writeStack(STACKS[1]);
    const [a, b] = await Promise.all([up(STACKS[0]), up(STACKS[1])]);
    const results = [a, b];
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners, `${a.output}\n-----\n${b.output}`).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.output).toContain(
      `pulumi-kind-dev: a kind cluster named ${NAMES.cluster} already exists and is not in this stack`,
    );
    for (const r of results) {
      expect(r.output).not.toContain("stopping kind");
      expect(r.output).not.toContain("left from an interrupted run");
    }
    // The cluster the winner made is whole and running; one registry, one cache.
    expect(run("kind", ["get", "nodes", "--name", NAMES.cluster]).trim()).toBe(
      `${NAMES.cluster}-control-plane`,
    );
    expect(containerRunning(`${NAMES.cluster}-control-plane`)).toBe(true);
    expect(containersNamed(NAMES.registry)).toHaveLength(1);
    expect(containersNamed(NAMES.cache)).toHaveLength(1);
    // Both terminals kept their locks and kind's log in the suite's state directory.
    const kindLog = path.join(state, "pulumi-kind-dev", `kind-create-${NAMES.cluster}.log`);
    expect(existsSync(kindLog)).toBe(true);
  });
});
