/**
 * The commands' short step lines on the real engine and the real command provider (the plugins
 * the test bed built), with the fake `kind` and `docker` of the unit tests first on PATH: no
 * Docker engine and no cluster are needed. The cluster command (cluster.ts clusterCommand) and
 * a network command with a secret environment, as the registries with credentials have:
 * - new script texts alone (a new version of this package) update them in place;
 * - a new kind config replaces the cluster, and the delete step runs the text recorded in the
 *   state, not the new one;
 * - a failed step's error quotes its short line and what the script said, not the script.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KindDevEnvironmentArgs } from "../../components/args";
import { clusterCommand } from "../../components/cluster";
import { resolveConfig } from "../../components/config";
import { scriptCommand } from "../../components/scriptCommand";
import { networkScript } from "../../components/scripts";
import { BED_BIN, bedStack, pulumiEnv, REPO_DIR } from "../support/bed";

const FAKES = path.join(REPO_DIR, "test/unit/fakes");
const CLUSTER = `kdsteps-${process.pid}`;

/** The component's type and name, so every child's URN is the component's own. */
class StandInEnvironment extends pulumi.ComponentResource {
  constructor(opts: pulumi.ComponentResourceOptions) {
    super("kind-dev:index:KindDevEnvironment", "dev", {}, opts);
    this.registerOutputs({});
  }
}

describe("the real engine runs the commands' short step lines", () => {
  let dir: string;
  let stack: Stack;
  let args: KindDevEnvironmentArgs = { clusterName: CLUSTER, workers: 1 };
  /** Written into every script text, as a new version of this package changes them. */
  let version = "v1";
  /** Variables of the provider's environment: what the fakes answer. */
  let fakes: Record<string, string> = {};

  // Every script text starts with `set -eu`; a line right after it logs which version's text of
  // which step ran, whichever way the script ends.
  const withVersion: pulumi.ResourceTransformation = (a) => {
    if (a.type !== "command:local:Command") {
      return undefined;
    }
    const version_ = version;
    const environment = pulumi.output(a.props["environment"]).apply((env) =>
      Object.fromEntries(
        Object.entries(env as Record<string, string>).map(([k, v]) => {
          const step = /^KIND_DEV_(CREATE|UPDATE|DELETE)$/.exec(k)?.[1]?.toLowerCase();
          return [
            k,
            step === undefined
              ? v
              : v.replace(
                  /^set -eu\n/,
                  `set -eu\necho "${a.name} ${version_} ${step}" >>"$STEPS_LOG"\n`,
                ),
          ];
        }),
      ),
    );
    return { props: { ...a.props, environment }, opts: a.opts };
  };

  const program = async (): Promise<void> => {
    const parent = new StandInEnvironment({ transformations: [withVersion] });
    clusterCommand("dev", resolveConfig(args), [], parent);
    const network = networkScript(`${CLUSTER}-net`, true);
    scriptCommand(
      "dev-network",
      network,
      { parent },
      { environment: pulumi.secret(network.environment) },
    );
  };

  const stepsLog = () => path.join(dir, "steps.log");
  /** The lines the script texts logged since the last call. */
  function stepsRun(): string[] {
    if (!existsSync(stepsLog())) {
      return [];
    }
    const lines = readFileSync(stepsLog(), "utf8").trim().split("\n");
    rmSync(stepsLog());
    return lines;
  }

  interface Run {
    ops: string[];
    diffs: Map<string, string[]>;
    errors: string[];
    /** Why `pulumi up` failed, if it did. */
    failure?: string;
  }

  /** Runs `pulumi up` (or a preview) and returns what the engine reported, in order. */
  async function engine(action: "up" | "preview"): Promise<Run> {
    const workspace = stack.workspace as LocalWorkspace;
    workspace.envVars = { ...workspace.envVars, FAKE_KIND_CLUSTERS: "", ...fakes };
    const run: Run = { ops: [], diffs: new Map(), errors: [] };
    const onEvent = (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m !== undefined && m.type === "command:local:Command" && m.op !== "same") {
        const name = m.urn.split("::").pop() ?? "";
        run.ops.push(`${m.op} ${name}`);
        if (m.detailedDiff) {
          run.diffs.set(name, Object.keys(m.detailedDiff).sort());
        }
      }
      const d = e.diagnosticEvent;
      if (d !== undefined && d.severity === "error" && d.urn !== undefined && d.urn !== "") {
        run.errors.push(d.message);
      }
    };
    if (action === "up") {
      await stack.up({ onEvent }).catch((err: unknown) => {
        run.failure = String(err);
      });
    } else {
      await stack.preview({ onEvent, diff: true });
    }
    return run;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "kind-dev-steps-"));
    // A PULUMI_HOME of its own, holding only the command plugin the bed built.
    const home = path.join(dir, "home");
    mkdirSync(path.join(home, "plugins/resource-command-v0.9.2"), { recursive: true });
    symlinkSync(
      path.join(BED_BIN, "pulumi-resource-command"),
      path.join(home, "plugins/resource-command-v0.9.2/pulumi-resource-command"),
    );
    mkdirSync(path.join(dir, "backend"));
    const envVars = {
      ...pulumiEnv(path.join(dir, "backend"), `${FAKES}:`),
      PULUMI_HOME: home,
      FAKE_LOG: path.join(dir, "calls.jsonl"),
      STEPS_LOG: stepsLog(),
      XDG_STATE_HOME: path.join(dir, "state"),
    };
    // The Automation API puts the CLI's directory first on PATH: one holding the CLI alone, so
    // that the bed's real kind stays behind the fake.
    mkdirSync(path.join(dir, "cli/bin"), { recursive: true });
    symlinkSync(path.join(BED_BIN, "pulumi"), path.join(dir, "cli/bin/pulumi"));
    const args = { stackName: "steps", projectName: "kind-dev-steps", program };
    stack = await bedStack(args, envVars, path.join(dir, "cli"));
  });

  afterAll(async () => {
    fakes = {};
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack("steps").catch(() => undefined);
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("creates both commands, each running its create text", async () => {
    const run = await engine("up");
    expect(run.failure).toBeUndefined();
    expect(run.ops.sort()).toEqual(["create dev-cluster", "create dev-network"]);
    expect(stepsRun().sort()).toEqual(["dev-cluster v1 create", "dev-network v1 create"]);
    expect((await engine("up")).ops).toEqual([]);
  });

  it("updates both in place for new script texts, the cluster with its update text", async () => {
    version = "v2";
    // cluster-update.sh checks that the cluster is still there.
    fakes = { FAKE_KIND_CLUSTERS: `${CLUSTER}\n` };
    const preview = await engine("preview");
    expect(preview.ops.sort()).toEqual(["update dev-cluster", "update dev-network"]);
    expect(preview.diffs.get("dev-cluster")).toEqual([
      "environment.KIND_DEV_CREATE",
      "environment.KIND_DEV_DELETE",
      "environment.KIND_DEV_UPDATE",
    ]);
    const run = await engine("up");
    expect(run.failure).toBeUndefined();
    expect(run.ops.sort()).toEqual(["update dev-cluster", "update dev-network"]);
    expect(stepsRun().sort()).toEqual(["dev-cluster v2 update", "dev-network v2 create"]);
  });

  it("replaces the cluster for a new kind config, deleting it with the recorded text", async () => {
    version = "v3";
    fakes = {};
    args = { clusterName: CLUSTER, workers: 2 };
    const run = await engine("up");
    expect(run.failure).toBeUndefined();
    expect(run.ops.filter((o) => o.endsWith("dev-cluster"))).toEqual([
      "delete-replaced dev-cluster",
      "replace dev-cluster",
      "create-replacement dev-cluster",
    ]);
    expect(run.ops).toContain("update dev-network");
    expect(stepsRun().filter((l) => l.startsWith("dev-cluster"))).toEqual([
      "dev-cluster v2 delete",
      "dev-cluster v3 create",
    ]);
  });

  it("reports a failed step by its short line and the script's own message", async () => {
    args = { clusterName: `${CLUSTER}-b`, workers: 2 };
    // A cluster of the new name that this stack did not make: cluster-create.sh refuses it.
    fakes = { FAKE_KIND_CLUSTERS: `${CLUSTER}-b\n` };
    const run = await engine("up");
    expect(run.failure).toBeDefined();
    expect(run.errors).toHaveLength(1);
    const error = run.errors[0] ?? "";
    console.log(
      `[steps] the failed step's error (${error.length} characters; the failed pulumi up's ` +
        `whole output: ${run.failure?.length} characters):\n${error}`,
    );
    expect(error).toContain(
      'exit status 1: running "exec /bin/sh -c \\"${KIND_DEV_CREATE:?}\\" cluster-create.sh":',
    );
    expect(error).toContain(
      `pulumi-kind-dev: a kind cluster named ${CLUSTER}-b already exists and is not in this stack`,
    );
    expect(error).not.toContain("set -eu");
    expect(error.length).toBeLessThan(1000);
  });
});
