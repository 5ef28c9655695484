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
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../support/bed";
import { ConsumerProject, lockVersion } from "../support/gitHost";
import { NODE_IMAGE } from "../support/lifecycle";

/** An image every node of the bed's node image carries, so the Deployment needs no registry. */
const APP_IMAGE = "registry.k8s.io/pause:3.10.1";
const NAME = "kdev-pkg-team";

/** The `version` of the package.json in `dir`. */
const versionIn = (dir: string): string =>
  (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;

const PROGRAM = `import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KindDevEnvironment } from "pulumi-kind-dev";

const config = new pulumi.Config();

const env = new KindDevEnvironment("team", {
  clusterName: "${NAME}",
  workers: 1,
  nodeImage: "${NODE_IMAGE}",
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
  const c = new ConsumerProject({
    label: "consumer",
    name: NAME,
    stackName: "team",
    tools: [],
    toolsHint: "'npm run testbed:e2e'",
    gitHost: false,
  });

  it("npm install of the release tag beside the team's own SDKs, one copy of each @pulumi package", async () => {
    const teamDir = c.project;
    const pulumiVersion = lockVersion("@pulumi/pulumi");
    const kubernetesVersion = lockVersion("@pulumi/kubernetes");
    c.typescriptProgram(PROGRAM);
    // The README's command, with the local bare repository for the hosting service.
    const repo = c.release!;
    expect(await c.npmInstall(repo.tag)).toBe(repo.commit);
    const declared = (
      JSON.parse(readFileSync(path.join(teamDir, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
      }
    ).dependencies;
    expect(declared["pulumi-kind-dev"]).toBe(`git+${repo.fileUrl}#${repo.tag}`);
    expect(versionIn(path.join(teamDir, "node_modules/pulumi-kind-dev"))).toBe(repo.tag.slice(1));
    // The team's program type-checks against the package's declarations and its own SDKs.
    await c.timed("tsc --noEmit (team repo)", async () =>
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
    const names = [...copies.keys()].sort();
    const found = names.map((n) => `${n}@${versionIn(copies.get(n)?.[0] ?? "")}`);
    console.log(`[consumer] @pulumi packages: ${found.join(", ")}`);
    expect(names).toEqual([
      "@pulumi/command",
      "@pulumi/docker",
      "@pulumi/kubernetes",
      "@pulumi/pulumi",
    ]);
    for (const [name, where] of copies) {
      expect(where, name).toEqual([path.join(teamDir, "node_modules", name)]);
    }
    const installed = (name: string) => versionIn(path.join(teamDir, "node_modules", name));
    expect(installed("@pulumi/pulumi")).toBe(pulumiVersion);
    expect(installed("@pulumi/kubernetes")).toBe(kubernetesVersion);
  });

  it("up: the environment and the team's Deployment through env.provider", async () => {
    const outputs = await c.up();
    expect(outputs["readyReplicas"]?.value).toBe(1);
    const deployment = String(outputs["deployment"]?.value);
    const available = "jsonpath={.status.availableReplicas}";
    expect(await c.kubectl("get", "deployment", "-n", "default", deployment, "-o", available)).toBe(
      "1",
    );
  });

  it("a preview right after up shows no changes", () => c.expectNoChanges());

  it("destroy removes the cluster, the registry and the network", () => c.destroy());
});
