/**
 * The component from a second Pulumi language, by reference to a release, on the real engine: a
 * Pulumi YAML program in a temporary directory runs `pulumi package add` of the release tag
 * from a local git host standing in for the hosting service (test/support/gitHost.ts):
 * `pulumi package add localhost/OWNER/pulumi-kind-dev.git/provider@v<version>`, the README's
 * command with `localhost` for `github.com` (test/support/install.ts). Pulumi clones the tag, installs the
 * component provider's dependencies (npm, at the repository root, whose workspace it is) and
 * records the package in Pulumi.yaml. Then the program creates a
 * `kind-dev:index:KindDevEnvironment`, builds a Kubernetes provider from its `kubeconfig` output
 * (the TypeScript-only `provider` output does not cross languages) and deploys through it; a
 * fresh copy of the project (no generated files, an empty plugin cache) is restored by
 * `pulumi install` and previews no changes; `destroy` runs from that copy.
 *
 * Needs `npm run testbed:e2e`, the YAML language host (`bash test/bed/language-yaml.sh`;
 * `npm run test:consumer` runs it), git, openssl, and 127.0.0.1:443 free.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BED_BIN, freePort, REPO_DIR, run, runAsync, TOOLS_ENV, tryRun } from "../support/bed";
import {
  consumerEnv,
  consumerPulumiHome,
  type GitHost,
  installedKindDevPlugins,
  startGitHost,
} from "../support/gitHost";
import { commandLine, packageAddArgs, recordedPackage } from "../support/install";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const NAME = "kdev-pkg-yaml";
const STACK = "yaml";
/**
 * The kubernetes plugin the program pins, as a team pins it: `pulumi install` otherwise asks the
 * hosting service for the newest release. The bed builds the lock file's version.
 */
const KUBERNETES_VERSION = (
  JSON.parse(readFileSync(path.join(REPO_DIR, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  }
).packages["node_modules/@pulumi/kubernetes"]?.version;

let work: string;
let host: GitHost;
let project: string;
let stack: Stack | undefined;

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", NAME]);
  tryRun("docker", ["rm", "-f", `${NAME}-registry`]);
  tryRun("docker", ["volume", "rm", `${NAME}-registry-data`]);
  tryRun("docker", ["network", "rm", NAME]);
}

const BODY = `config:
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
    options:
      version: ${KUBERNETES_VERSION}
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
      version: ${KUBERNETES_VERSION}
outputs:
  nodeNames: \${env.nodeNames}
  registryHost: \${env.registryHost}
  readyReplicas: \${app.status.readyReplicas}
`;

async function selectStack(dir: string, home: string): Promise<Stack> {
  process.env["PATH"] = TOOLS_ENV["PATH"];
  const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
  return LocalWorkspace.createOrSelectStack(
    { stackName: STACK, workDir: dir },
    { pulumiCommand, envVars: consumerEnv(path.join(work, "state"), home, host) },
  );
}

function changes(summary: Record<string, number | undefined>): [string, number | undefined][] {
  return Object.entries(summary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
}

describe("a Pulumi YAML program adds the component by its release tag", () => {
  let registryPort: number;
  let home: string;

  beforeAll(async () => {
    for (const tool of ["pulumi", "pulumi-language-yaml", "pulumi-language-nodejs", "kind"]) {
      if (!existsSync(path.join(BED_BIN, tool))) {
        throw new Error(
          `${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' and 'bash test/bed/language-yaml.sh'`,
        );
      }
    }
    cleanup();
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-pkg-yaml-"));
    host = await startGitHost(work);
    project = path.join(work, "project");
    mkdirSync(project);
    mkdirSync(path.join(work, "state"));
    home = consumerPulumiHome(path.join(work, "pulumi-home"));
    registryPort = await freePort();
    writeFileSync(path.join(project, "Pulumi.yaml"), `name: ${NAME}\nruntime: yaml\n`);
  }, 300_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    cleanup();
    await host?.close();
    if (work && process.env["KEEP_CONSUMER_DIR"] !== "1") {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it("pulumi package add of the tag records it in Pulumi.yaml", async () => {
    const args = packageAddArgs(host.host, host.tag);
    const start = Date.now();
    const added = await runAsync("pulumi", args, {
      cwd: project,
      env: consumerEnv(path.join(work, "state"), home, host),
      timeoutMs: 900_000,
    });
    console.log(
      `[yaml] ${commandLine("pulumi", args)}: ${((Date.now() - start) / 1000).toFixed(1)}s`,
    );
    expect(added.code, `${added.stdout}\n${added.stderr}`).toBe(0);
    const recorded = readFileSync(path.join(project, "Pulumi.yaml"), "utf8");
    expect((parse(recorded) as { packages: unknown }).packages).toEqual({
      "kind-dev": recordedPackage(host.host, host.tag),
    });
    expect(installedKindDevPlugins(home)).toEqual([
      `resource-localhost_OWNER_pulumi-kind-dev.git_provider-${host.tag}`,
    ]);
    appendFileSync(path.join(project, "Pulumi.yaml"), BODY);
  }, 900_000);

  it("up creates the environment and a Deployment through a provider built from kubeconfig", async () => {
    stack = await selectStack(project, home);
    await stack.setConfig("registryPort", { value: String(registryPort) });
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
    const preview = await stack!.preview();
    console.log(`[yaml] preview: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(changes(preview.changeSummary)).toEqual([]);
  }, 600_000);

  it("pulumi install restores the package in a fresh copy, which previews no changes", async () => {
    const fresh = path.join(work, "fresh");
    mkdirSync(fresh);
    for (const f of ["Pulumi.yaml", `Pulumi.${STACK}.yaml`]) {
      copyFileSync(path.join(project, f), path.join(fresh, f));
    }
    const freshHome = consumerPulumiHome(path.join(work, "pulumi-home-fresh"));
    expect(installedKindDevPlugins(freshHome)).toEqual([]);
    const start = Date.now();
    const installed = await runAsync("pulumi", ["install"], {
      cwd: fresh,
      env: consumerEnv(path.join(work, "state"), freshHome, host),
      timeoutMs: 900_000,
    });
    console.log(`[yaml] pulumi install (fresh copy): ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(installed.code, `${installed.stdout}\n${installed.stderr}`).toBe(0);
    expect(installedKindDevPlugins(freshHome)).toEqual([
      `resource-localhost_OWNER_pulumi-kind-dev.git_provider-${host.tag}`,
    ]);
    stack = await selectStack(fresh, freshHome);
    const preview = await stack.preview();
    expect(changes(preview.changeSummary)).toEqual([]);
  }, 1_200_000);

  it("destroy (from the fresh copy) removes the cluster, the registry and the network", async () => {
    const start = Date.now();
    const result = await stack!.destroy({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[yaml] destroy: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(NAME);
    expect(tryRun("docker", ["inspect", `${NAME}-registry`]).ok).toBe(false);
    expect(tryRun("docker", ["network", "inspect", NAME]).ok).toBe(false);
  }, 600_000);
});
