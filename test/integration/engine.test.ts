/**
 * The real Pulumi engine (Automation API, file backend in a temp dir, no account) previews the
 * dev stack with the plugins the test bed built, and reports exactly the resources the
 * component declares.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type EngineEvent,
  LocalWorkspace,
  PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BED_BIN, describeDocker, pulumiEnv, REPO_DIR } from "./helpers";

describeDocker("the real engine previews the dev stack", () => {
  const stackName = `itest-${process.pid}`;
  const stackFile = path.join(REPO_DIR, "stacks/dev", `Pulumi.${stackName}.yaml`);
  let backend: string;
  let stack: Stack;

  beforeAll(async () => {
    if (!existsSync(path.join(BED_BIN, "pulumi"))) {
      throw new Error(`no pulumi CLI in ${BED_BIN}: run 'npm run testbed' first`);
    }
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-backend-"));
    const envVars = pulumiEnv(backend);
    process.env["PATH"] = envVars["PATH"];
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: REPO_DIR },
      {
        pulumiCommand,
        envVars,
      },
    );
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
    const hosts = ["control-plane", "worker", "worker2"].flatMap((n) => [
      create(cmd, `dev-${n}-hosts-docker-io`),
      create(cmd, `dev-${n}-hosts-kind-registry-5000`),
      create(cmd, `dev-${n}-hosts-localhost-5001`),
    ]);
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
