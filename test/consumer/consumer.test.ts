/**
 * A team's own infra repo that depends on a release of this package, outside this repository: a
 * local bare git repository stands in for the hosting service (HEAD's committed tree, tagged
 * `v<version>`: test/support/gitHost.ts); a Pulumi TypeScript program in a temporary directory
 * runs the README's `npm install git+<url>#v<version>` next to its own `@pulumi/pulumi` and
 * `@pulumi/kubernetes` (npm clones the tag and builds it through `prepare`), then on the
 * real engine (file backend, the test bed's CLI and plugins): `up` (the environment with one
 * worker, the team's image built from a context of its own by `LocalImage` and pushed to the
 * environment's registry, and the team's Deployment of that image through `env.provider`), a
 * preview with no changes, a changed context rolled out by digest, `destroy`.
 *
 * Needs `npm run testbed:e2e` (Docker engine, Pulumi CLI and plugins, kind, node image, the
 * docker-build plugin and docker buildx: test/bed/docker-build.sh).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BED_CACHE, run, tryRun, waitFor } from "../support/bed";
import { ConsumerProject, lockVersion } from "../support/gitHost";
import { BASE_IMAGE, NODE_IMAGE } from "../support/lifecycle";

const NAME = "kdev-pkg-team";
const REPOSITORY = "team/app";

/** The `version` of the package.json in `dir`. */
const versionIn = (dir: string): string =>
  (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;

const PROGRAM = `import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KindDevEnvironment, LocalImage } from "pulumi-kind-dev";

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

const image = new LocalImage("team-app", {
  repository: "${REPOSITORY}",
  context: "./app",
  registryHost: env.registryHost,
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
          containers: [{ name: "app", image: image.ref }],
          terminationGracePeriodSeconds: 1,
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
export const imageRef = image.ref;
`;

/** The build context: the bed's Debian image (in the local Docker store) and one text file. */
function writeContext(dir: string, message: string): void {
  mkdirSync(path.join(dir, "app"), { recursive: true });
  writeFileSync(
    path.join(dir, "app", "Dockerfile"),
    `FROM ${BASE_IMAGE}\nCOPY message.txt /message.txt\nCMD ["sleep", "infinity"]\n`,
  );
  writeFileSync(path.join(dir, "app", "message.txt"), `${message}\n`);
}

interface PodList {
  items: {
    metadata: { deletionTimestamp?: string };
    status: { containerStatuses?: { imageID: string }[] };
  }[];
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** The digest the registry serves for the tag `latest` (Docker-Content-Digest, the body's hash). */
async function registryDigest(registryHost: string): Promise<string> {
  const res = await fetch(`http://${registryHost}/v2/${REPOSITORY}/manifests/latest`, {
    headers: { Accept: MANIFEST_TYPES },
  });
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = res.headers.get("docker-content-digest");
  expect(digest).toBe(`sha256:${createHash("sha256").update(body).digest("hex")}`);
  return digest ?? "";
}

describe("a team repo installs the npm pack tarball and uses it on the real engine", () => {
  const c = new ConsumerProject({
    label: "consumer",
    name: NAME,
    stackName: "team",
    tools: [
      path.join(
        BED_CACHE,
        `pulumi-home/plugins/resource-docker-build-v${lockVersion("@pulumi/docker-build")}`,
        "pulumi-resource-docker-build",
      ),
    ],
    toolsHint: "'npm run testbed:e2e' or 'bash test/bed/docker-build.sh'",
    gitHost: false,
  });

  it("npm install of the release tag beside the team's own SDKs, one copy of each @pulumi package", async () => {
    const teamDir = c.project;
    const pulumiVersion = lockVersion("@pulumi/pulumi");
    const kubernetesVersion = lockVersion("@pulumi/kubernetes");
    c.typescriptProgram(PROGRAM);
    writeContext(teamDir, "first");
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
      "@pulumi/docker-build",
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

  // The images the builds left in the local Docker store (the daemon's builder keeps what it
  // pushes), by ID.
  const built: string[] = [];
  afterAll(() => built.forEach((id) => tryRun("docker", ["image", "rm", id])));

  /**
   * `up`; the image's `ref` names the registry's digest of the tag, and the Deployment, ready,
   * runs exactly that digest. Returns `ref`.
   */
  async function upRunsImage(): Promise<string> {
    const outputs = await c.up();
    expect(outputs["readyReplicas"]?.value).toBe(1);
    const deployment = String(outputs["deployment"]?.value);
    const available = "jsonpath={.status.availableReplicas}";
    expect(await c.kubectl("get", "deployment", "-n", "default", deployment, "-o", available)).toBe(
      "1",
    );
    const ref = String(outputs["imageRef"]?.value);
    const registryHost = `localhost:${c.registryPort}`;
    expect(ref).toMatch(new RegExp(`^${registryHost}/${REPOSITORY}@sha256:[0-9a-f]{64}$`));
    expect(ref.slice(ref.indexOf("@") + 1)).toBe(await registryDigest(registryHost));
    const local = `${registryHost}/${REPOSITORY}:latest`;
    built.push(run("docker", ["image", "inspect", "-f", "{{.Id}}", local]).trim());
    // One pod once a rollout's old one is gone, and it runs exactly `ref`.
    const status = await waitFor("one pod of team-app", 60_000, async () => {
      const pods = JSON.parse(
        await c.kubectl("get", "pods", "-n", "default", "-l", "app=team-app", "-o", "json"),
      ) as PodList;
      const [pod, ...more] = pods.items;
      return (
        pod !== undefined &&
        pod.metadata.deletionTimestamp === undefined &&
        more.length === 0 &&
        pod.status
      );
    });
    expect(status.containerStatuses?.map((s) => s.imageID)).toEqual([ref]);
    return ref;
  }

  let firstRef = "";

  it("up: the environment, the team's image pushed by digest and its Deployment through env.provider", async () => {
    firstRef = await upRunsImage();
  });

  it("a preview right after up shows no changes", () => c.expectNoChanges());

  it("a changed file of the context: up pushes a new digest and the Deployment rolls to it", async () => {
    writeContext(c.project, "second");
    const ref = await upRunsImage();
    expect(ref).not.toBe(firstRef);
  });

  it("destroy removes the cluster, the registry and the network", () => c.destroy());
});
