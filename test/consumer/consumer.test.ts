/**
 * A team's own infra repo that depends on a release of this package, outside this repository: a
 * local bare git repository stands in for the hosting service (HEAD's committed tree, tagged
 * `v<version>`: test/support/gitHost.ts); a Pulumi TypeScript program in a temporary directory
 * runs the README's `npm install git+<url>#v<version>` next to its own `@pulumi/pulumi` and
 * `@pulumi/kubernetes` (npm clones the tag and builds it through `prepare`), then on the
 * real engine (file backend, the test bed's CLI and plugins): `up` (the environment with one
 * worker and the team's own Deployment through `env.provider`), a preview with no changes,
 * `destroy`.
 *
 * Needs `npm run testbed:e2e` (Docker engine, Pulumi CLI and plugins, kind, node image).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  runAsync,
  TOOLS_ENV,
  tryRun,
  WRAPPER_DIR,
} from "../support/bed";
import { makeReleaseRepo } from "../support/gitHost";
import { commandLine, npmInstallArgs } from "../support/install";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
/** An image every node of the bed's node image carries, so the Deployment needs no registry. */
const APP_IMAGE = "registry.k8s.io/pause:3.10.1";
const NAME = "kdev-pkg-team";
const STACK = "team";

const lock = JSON.parse(readFileSync(path.join(REPO_DIR, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version: string }>;
};
/** The versions the team declares: the ones this repository's lock file tests against. */
const lockVersion = (name: string): string => {
  const v = lock.packages[`node_modules/${name}`]?.version;
  if (!v) {
    throw new Error(`${name} is not in package-lock.json`);
  }
  return v;
};

let work: string;
let teamDir: string;
let stack: Stack;

function timed<T>(what: string, body: () => T): T {
  const start = Date.now();
  try {
    return body();
  } finally {
    console.log(`[consumer] ${what}: ${((Date.now() - start) / 1000).toFixed(1)}s`);
  }
}

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", NAME]);
  tryRun("docker", ["rm", "-f", `${NAME}-registry`]);
  tryRun("docker", ["volume", "rm", `${NAME}-registry-data`]);
  tryRun("docker", ["network", "rm", NAME]);
}

const PROGRAM = `import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KindDevEnvironment } from "pulumi-kind-dev";

const config = new pulumi.Config();

const env = new KindDevEnvironment("team", {
  clusterName: "${NAME}",
  workers: 1,
  nodeImage: config.require("nodeImage"),
  networkName: "${NAME}",
  registryName: "${NAME}-registry",
  registryPort: config.requireNumber("registryPort"),
  caches: [],
  retainOnDestroy: false,
});

const labels = { app: "team-app" };
const app = new k8s.apps.v1.Deployment(
  "team-app",
  {
    metadata: { namespace: "default" },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "app", image: "${APP_IMAGE}", imagePullPolicy: "Never" }],
        },
      },
    },
  },
  { provider: env.provider },
);

export const kubeconfig = env.kubeconfig;
export const registryHost = env.registryHost;
export const nodeNames = env.nodeNames;
export const deployment = app.metadata.name;
export const readyReplicas = app.status.readyReplicas;
`;

describe("a team repo installs the npm pack tarball and uses it on the real engine", () => {
  beforeAll(async () => {
    for (const tool of ["pulumi", "kind", "kubectl"]) {
      if (!existsSync(path.join(BED_BIN, tool))) {
        throw new Error(`${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' first`);
      }
    }
    if (!tryRun("docker", ["image", "inspect", NODE_IMAGE]).ok) {
      throw new Error(`node image ${NODE_IMAGE} is missing: run 'npm run testbed:e2e' first`);
    }
    cleanup();
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-pkg-consumer-"));
    teamDir = path.join(work, "team-infra");
    mkdirSync(teamDir);
  }, 120_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    cleanup();
    if (work && process.env["KEEP_CONSUMER_DIR"] !== "1") {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it("npm install of the release tag beside the team's own SDKs, one copy of each @pulumi package", async () => {
    const pulumiVersion = lockVersion("@pulumi/pulumi");
    const kubernetesVersion = lockVersion("@pulumi/kubernetes");
    writeFileSync(
      path.join(teamDir, "package.json"),
      `${JSON.stringify(
        {
          name: "team-infra",
          private: true,
          dependencies: {
            "@pulumi/kubernetes": kubernetesVersion,
            "@pulumi/pulumi": pulumiVersion,
          },
          devDependencies: {
            "@types/node": lockVersion("@types/node"),
            "ts-node": lockVersion("ts-node"),
            typescript: lockVersion("typescript"),
          },
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(
      path.join(teamDir, "Pulumi.yaml"),
      "name: team-infra\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n",
    );
    writeFileSync(
      path.join(teamDir, "tsconfig.json"),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "commonjs",
            moduleResolution: "node",
            strict: true,
            esModuleInterop: true,
            skipLibCheck: true,
            types: ["node"],
          },
          files: ["index.ts"],
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(path.join(teamDir, "index.ts"), PROGRAM);
    // The README's command, with the local bare repository for the hosting service. npm clones
    // the tag and runs the package's `prepare` (the build) there; the team's own SDKs come from
    // npm's cache where it has them (the versions this repository installs too).
    const repo = makeReleaseRepo(work);
    const args = npmInstallArgs(repo.fileUrl, repo.tag);
    const start = Date.now();
    const npmInstall = await runAsync(
      "npm",
      [...args, "--prefer-offline", "--no-audit", "--no-fund"],
      {
        cwd: teamDir,
        timeoutMs: 900_000,
      },
    );
    console.log(
      `[consumer] ${commandLine("npm", args)}: ${((Date.now() - start) / 1000).toFixed(1)}s`,
    );
    expect(npmInstall.code, `${npmInstall.stdout}\n${npmInstall.stderr}`).toBe(0);
    const declared = (
      JSON.parse(readFileSync(path.join(teamDir, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
      }
    ).dependencies;
    expect(declared["pulumi-kind-dev"]).toBe(`git+${repo.fileUrl}#${repo.tag}`);
    expect(
      (
        JSON.parse(
          readFileSync(path.join(teamDir, "node_modules/pulumi-kind-dev/package.json"), "utf8"),
        ) as { version: string }
      ).version,
    ).toBe(repo.tag.slice(1));
    // The team's program type-checks against the package's declarations and its own SDKs.
    timed("tsc --noEmit (team repo)", () =>
      run(path.join(teamDir, "node_modules/.bin/tsc"), ["--noEmit", "-p", "."], { cwd: teamDir }),
    );

    const paths = run("npm", ["ls", "--all", "--parseable"], { cwd: teamDir })
      .split("\n")
      .filter((p) => /\/node_modules\/@pulumi\/[^/]+$/.test(p));
    const copies = new Map<string, string[]>();
    for (const p of paths) {
      const name = p.slice(p.lastIndexOf("/node_modules/") + "/node_modules/".length);
      copies.set(name, [...(copies.get(name) ?? []), p]);
    }
    console.log(
      `[consumer] @pulumi packages: ${[...copies.keys()]
        .sort()
        .map(
          (n) =>
            `${n}@${(JSON.parse(readFileSync(path.join(copies.get(n)?.[0] ?? "", "package.json"), "utf8")) as { version: string }).version}`,
        )
        .join(", ")}`,
    );
    expect([...copies.keys()].sort()).toEqual([
      "@pulumi/command",
      "@pulumi/docker",
      "@pulumi/kubernetes",
      "@pulumi/pulumi",
    ]);
    for (const [name, where] of copies) {
      expect(where, name).toEqual([path.join(teamDir, "node_modules", name)]);
    }
    const installed = (name: string): string =>
      (
        JSON.parse(
          readFileSync(path.join(teamDir, "node_modules", name, "package.json"), "utf8"),
        ) as { version: string }
      ).version;
    expect(installed("@pulumi/pulumi")).toBe(pulumiVersion);
    expect(installed("@pulumi/kubernetes")).toBe(kubernetesVersion);
  }, 300_000);

  it("up: the environment and the team's Deployment through env.provider", async () => {
    const backend = path.join(work, "state");
    mkdirSync(backend);
    process.env["PATH"] = TOOLS_ENV["PATH"];
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: STACK, workDir: teamDir },
      { pulumiCommand, envVars: pulumiEnv(backend, `${WRAPPER_DIR}:`) },
    );
    await stack.setAllConfig({
      "team-infra:nodeImage": { value: NODE_IMAGE },
      "team-infra:registryPort": { value: String(await freePort()) },
    });
    const start = Date.now();
    const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[consumer] up: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    const outputs = await stack.outputs();
    expect(outputs["nodeNames"]?.value).toEqual([`${NAME}-control-plane`, `${NAME}-worker`]);
    expect(outputs["readyReplicas"]?.value).toBe(1);
    expect(outputs["kubeconfig"]?.secret).toBe(true);
    const kubeconfigFile = path.join(work, "kubeconfig");
    writeFileSync(kubeconfigFile, String(outputs["kubeconfig"]?.value), { mode: 0o600 });
    const deployed = run("kubectl", [
      "--kubeconfig",
      kubeconfigFile,
      "get",
      "deployment",
      "-n",
      "default",
      String(outputs["deployment"]?.value),
      "-o",
      "jsonpath={.status.availableReplicas}",
    ]);
    expect(deployed).toBe("1");
  }, 1_200_000);

  it("a preview right after up shows no changes", async () => {
    const start = Date.now();
    const preview = await stack.preview();
    console.log(`[consumer] preview: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    const changes = Object.entries(preview.changeSummary).filter(
      ([op, n]) => op !== "same" && (n ?? 0) > 0,
    );
    expect(changes).toEqual([]);
  }, 600_000);

  it("destroy removes the cluster, the registry and the network", async () => {
    const start = Date.now();
    const result = await stack.destroy({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[consumer] destroy: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(NAME);
    expect(tryRun("docker", ["inspect", `${NAME}-registry`]).ok).toBe(false);
    expect(tryRun("docker", ["network", "inspect", NAME]).ok).toBe(false);
  }, 600_000);
});
