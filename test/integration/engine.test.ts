/**
 * The real Pulumi engine (Automation API, file backend in a temp dir, no account), with the
 * plugins the test bed built:
 * - previews the dev stack and reports exactly the resources the component declares;
 * - runs `pulumi up` on the `hosts.toml` commands against node stand-ins (plain containers named
 *   like kind nodes, behind a stand-in cluster command): per-file diffs in previews, updates
 *   that rewrite only what changed, destroy that removes only what the commands wrote.
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import { listHostsArgv } from "../../components/doctor/facts";
import { parseHostsList } from "../../components/doctor/parse";
import { createNodeHosts } from "../../components/nodeHosts";
import { planHostsFiles } from "../../components/render/hostsToml";
import type { KindDevEnvironmentArgs } from "../../components/args";
import { bedStack } from "../support/bed";
import {
  BED_IMAGES,
  describeDocker,
  docker,
  dockerResult,
  pulumiEnv,
  REPO_DIR,
  Resources,
  runId,
} from "./helpers";

describeDocker("the real engine previews the dev stack", () => {
  const stackName = `itest-${process.pid}`;
  const stackFile = path.join(REPO_DIR, "stacks/dev", `Pulumi.${stackName}.yaml`);
  let backend: string;
  let stack: Stack;

  beforeAll(async () => {
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-backend-"));
    stack = await bedStack({ stackName, workDir: REPO_DIR }, pulumiEnv(backend));
    await stack.setAllConfig({
      "kind-dev:clusterName": { value: "itest" },
      "kind-dev:workers": { value: "2" },
    });
  });

  afterAll(async () => {
    await stack?.workspace.removeStack(stackName).catch(() => undefined);
    rmSync(stackFile, { force: true });
    if (backend) {
      rmSync(backend, { recursive: true, force: true });
    }
  });

  it("reports every resource of the component as a create", async () => {
    const events: EngineEvent[] = [];
    const result = await stack.preview({ onEvent: (e) => events.push(e) });
    const planned = events
      .map((e) => e.resourcePreEvent?.metadata)
      .filter((m) => m !== undefined)
      .filter((m) => !m.type.startsWith("pulumi:providers:") || m.urn.includes("dev-k8s"))
      .map((m) => `${m.op} ${m.type} ${m.urn.split("::").pop()}`)
      .sort();
    const create = (type: string, name: string) => `create ${type} ${name}`;
    const cmd = "command:local:Command";
    const hosts = ["control-plane", "worker", "worker2"].map((n) => create(cmd, `dev-${n}-hosts`));
    expect(planned).toEqual(
      [
        create("pulumi:pulumi:Stack", `kind-dev-${stackName}`),
        create("kind-dev:index:KindDevEnvironment", "dev"),
        create(cmd, "dev-network"),
        create(cmd, "dev-registry"),
        create(cmd, "dev-cache-docker-io"),
        create(cmd, "dev-cluster"),
        ...hosts,
        create("pulumi:providers:kubernetes", "dev-k8s"),
        create("kubernetes:core/v1:ConfigMap", "dev-local-registry-hosting"),
      ].sort(),
    );
    expect(result.changeSummary["create"]).toBe(planned.length);
  });
});

/** Where the hosts.toml command lists, on each node, the host directories it wrote. */
const MANAGED_LIST = "/etc/containerd/certs.d/.kind-dev-managed";

/** The component's type and name, so every child's URN is the component's own. */
class StandInEnvironment extends pulumi.ComponentResource {
  constructor() {
    super("kind-dev:index:KindDevEnvironment", "dev", {}, {});
    this.registerOutputs({});
  }
}

describeDocker("the real engine runs the hosts.toml commands on node stand-ins", () => {
  const id = runId();
  const clusterName = `kdup-${id}`;
  const res = new Resources();
  const stackName = `hosts-${id}`;
  let backend: string;
  let stack: Stack;
  let args: KindDevEnvironmentArgs = { clusterName, workers: 1 };
  const config = () => resolveConfig(args);
  const nodes = () => config().nodes.map((n) => n.name);

  const program = async (): Promise<void> => {
    const parent = new StandInEnvironment();
    const cluster = new command.local.Command("dev-cluster", { create: "true" }, { parent });
    createNodeHosts("dev", config(), cluster, [], parent);
  };

  /** Every `hosts.toml` in a node, host directory -> text (the doctor's reader). */
  async function filesOn(node: string): Promise<Map<string, string>> {
    return new Map(Object.entries(parseHostsList(await docker(listHostsArgv(node).slice(1)))));
  }
  function planned(): Map<string, string> {
    return new Map(planHostsFiles(config()).map((f) => [f.hostDir, f.toml]));
  }
  async function manifestOn(node: string): Promise<string | undefined> {
    const r = await dockerResult(["exec", node, "cat", MANAGED_LIST]);
    return r.code === 0 ? r.stdout : undefined;
  }
  /** Inode of a file: `mv` of a rewritten file gives a new one. */
  async function inode(node: string, file: string): Promise<string> {
    return (await docker(["exec", node, "stat", "-c", "%i", file])).trim();
  }
  /** `op name` of every resource step the engine reports, in order. */
  async function steps(
    run: (onEvent: (e: EngineEvent) => void) => Promise<unknown>,
  ): Promise<{ ops: string[]; diffs: Map<string, string[]> }> {
    const ops: string[] = [];
    const diffs = new Map<string, string[]>();
    await run((e) => {
      const m = e.resourcePreEvent?.metadata;
      if (m === undefined || m.type.startsWith("pulumi:")) {
        return;
      }
      const name = m.urn.split("::").pop() ?? "";
      ops.push(`${m.op} ${name}`);
      if (m.detailedDiff) {
        diffs.set(name, Object.keys(m.detailedDiff).sort());
      }
    });
    return { ops, diffs };
  }
  async function up(): Promise<string[]> {
    const started = Date.now();
    const { ops } = await steps((onEvent) => stack.up({ onEvent }));
    console.log(`[engine] pulumi up: ${Date.now() - started} ms, ${ops.length} steps`);
    return ops;
  }

  beforeAll(async () => {
    for (const node of nodes()) {
      await res.run(node, id, {}, BED_IMAGES.debian, "sleep", "infinity");
    }
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-backend-"));
    const args = { stackName, projectName: "kind-dev-hosts", program };
    stack = await bedStack(args, pulumiEnv(backend));
  });

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack(stackName).catch(() => undefined);
    await res.cleanup();
    if (backend) {
      rmSync(backend, { recursive: true, force: true });
    }
  });

  it("each node's command writes all of its files and the manifest of them", async () => {
    expect((await up()).sort()).toEqual([
      "create dev",
      "create dev-cluster",
      "create dev-control-plane-hosts",
      "create dev-worker-hosts",
    ]);
    for (const node of nodes()) {
      expect(await filesOn(node)).toEqual(planned());
      expect(await manifestOn(node)).toBe("localhost:5001\nkind-registry:5000\ndocker.io\n");
    }
  });

  it("the next run changes nothing", async () => {
    expect((await up()).filter((o) => !o.startsWith("same "))).toEqual([]);
    for (const node of nodes()) {
      expect(await filesOn(node)).toEqual(planned());
    }
  });

  it("a preview names the file that changes; the update writes it alone", async () => {
    const node = nodes()[0]!;
    await docker([
      "exec",
      node,
      "sh",
      "-c",
      "mkdir -p /etc/containerd/certs.d/by-hand && echo x >/etc/containerd/certs.d/by-hand/hosts.toml",
    ]);
    const kept = await inode(node, "/etc/containerd/certs.d/docker.io/hosts.toml");
    args = {
      clusterName,
      workers: 1,
      caches: [{ upstreamHost: "docker.io" }, { upstreamHost: "quay.io" }],
    };
    const preview = await steps((onEvent) => stack.preview({ onEvent, diff: true }));
    expect(preview.ops.filter((o) => !o.startsWith("same ")).sort()).toEqual([
      "update dev-control-plane-hosts",
      "update dev-worker-hosts",
    ]);
    expect(preview.diffs.get("dev-worker-hosts")).toEqual([
      "environment.HOSTS",
      "environment.HOSTS_TOML_QUAY_IO",
    ]);
    await up();
    const files = await filesOn(node);
    expect(files).toEqual(new Map([...planned(), ["by-hand", "x\n"]]));
    expect(await inode(node, "/etc/containerd/certs.d/docker.io/hosts.toml")).toBe(kept);

    // Back: quay.io goes, the directory written by hand stays.
    args = { clusterName, workers: 1 };
    await up();
    expect(await filesOn(node)).toEqual(new Map([...planned(), ["by-hand", "x\n"]]));
  });

  it("destroy removes the files it wrote and nothing else", async () => {
    await stack.destroy();
    for (const node of nodes()) {
      const left = await filesOn(node);
      expect([...left.keys()]).toEqual(node === nodes()[0] ? ["by-hand"] : []);
      expect(await manifestOn(node)).toBeUndefined();
    }
  });
});
