/**
 * The component from a second Pulumi language, on the real engine: a Pulumi YAML program in a
 * temporary directory names this repository's component provider (`provider/`) under `packages:`,
 * creates a `kind-dev:index:KindDevEnvironment` (served by the TypeScript component through the
 * Node.js language host), builds a Kubernetes provider from its `kubeconfig` output (the
 * TypeScript-only `provider` output does not cross languages) and deploys through it; then a
 * preview with no changes, and `destroy`.
 *
 * Needs `npm run testbed:e2e`, `npm ci` at the root, and the YAML language host
 * (`bash test/bed/language-yaml.sh`; `npm run test:consumer` runs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BED_BIN,
  freePort,
  pulumiEnv,
  REPO_DIR,
  run,
  TOOLS_ENV,
  tryRun,
  WRAPPER_DIR,
} from "../support/bed";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const NAME = "kdev-pkg-yaml";
const STACK = "yaml";

let work: string;
let stack: Stack;

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", NAME]);
  tryRun("docker", ["rm", "-f", `${NAME}-registry`]);
  tryRun("docker", ["volume", "rm", `${NAME}-registry-data`]);
  tryRun("docker", ["network", "rm", NAME]);
}

const PROGRAM = `name: ${NAME}
runtime: yaml
packages:
  kind-dev: ${path.join(REPO_DIR, "provider")}
config:
  registryPort:
    type: integer
resources:
  env:
    type: kind-dev:index:KindDevEnvironment
    properties:
      clusterName: ${NAME}
      workers: 1
      nodeImage: ${NODE_IMAGE}
      networkName: ${NAME}
      registryName: ${NAME}-registry
      registryPort: \${registryPort}
      caches: []
      retainOnDestroy: false
  k8s:
    type: pulumi:providers:kubernetes
    properties:
      kubeconfig: \${env.kubeconfig}
  app:
    type: kubernetes:apps/v1:Deployment
    properties:
      metadata:
        namespace: default
      spec:
        replicas: 1
        selector:
          matchLabels:
            app: yaml-app
        template:
          metadata:
            labels:
              app: yaml-app
          spec:
            containers:
              - name: app
                image: registry.k8s.io/pause:3.10.1
                imagePullPolicy: Never
    options:
      provider: \${k8s}
outputs:
  nodeNames: \${env.nodeNames}
  registryHost: \${env.registryHost}
  readyReplicas: \${app.status.readyReplicas}
`;

describe("a Pulumi YAML program uses the component through the component provider", () => {
  let registryPort: number;

  beforeAll(async () => {
    for (const tool of ["pulumi", "pulumi-language-yaml", "kind"]) {
      if (!existsSync(path.join(BED_BIN, tool))) {
        throw new Error(
          `${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' and 'bash test/bed/language-yaml.sh'`,
        );
      }
    }
    cleanup();
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-pkg-yaml-"));
    const project = path.join(work, "project");
    mkdirSync(project);
    mkdirSync(path.join(work, "state"));
    registryPort = await freePort();
    writeFileSync(path.join(project, "Pulumi.yaml"), PROGRAM);

    process.env["PATH"] = TOOLS_ENV["PATH"];
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: STACK, workDir: project },
      {
        pulumiCommand,
        envVars: {
          ...pulumiEnv(path.join(work, "state"), `${WRAPPER_DIR}:`),
          // The YAML host loads the kind-dev plugin itself, and finds the Node.js language host
          // that runs it only on PATH (next to the CLI is next to the CLI's own executable, not
          // the YAML host's). $BED_BIN holds exactly the plugin versions the bed built.
          PULUMI_IGNORE_AMBIENT_PLUGINS: "false",
        },
      },
    );
    await stack.setConfig("registryPort", { value: String(registryPort) });
  }, 300_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    cleanup();
    if (work) {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it("up creates the environment and a Deployment through a provider built from kubeconfig", async () => {
    const start = Date.now();
    const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[yaml] up: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    const outputs = await stack.outputs();
    expect(outputs["nodeNames"]?.value).toEqual([`${NAME}-control-plane`, `${NAME}-worker`]);
    expect(outputs["registryHost"]?.value).toBe(`localhost:${registryPort}`);
    expect(outputs["readyReplicas"]?.value).toBe(1);
    const state = (await stack.exportStack()).deployment as { resources: { type: string }[] };
    const types = state.resources.map((r) => r.type);
    expect(types).toContain("kind-dev:index:KindDevEnvironment");
    expect(types).toContain("pulumi:providers:kind-dev");
  }, 1_200_000);

  it("a preview right after up shows no changes", async () => {
    const start = Date.now();
    const preview = await stack.preview();
    console.log(`[yaml] preview: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    const changes = Object.entries(preview.changeSummary).filter(
      ([op, n]) => op !== "same" && (n ?? 0) > 0,
    );
    expect(changes).toEqual([]);
  }, 600_000);

  it("destroy removes the cluster, the registry and the network", async () => {
    const start = Date.now();
    const result = await stack.destroy({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[yaml] destroy: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(NAME);
    expect(tryRun("docker", ["inspect", `${NAME}-registry`]).ok).toBe(false);
  }, 600_000);
});
