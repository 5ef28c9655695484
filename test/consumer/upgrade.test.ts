/**
 * A team's stack moves from the last release to the next one: the newest `v*` tag reachable from
 * HEAD (`git describe`), then the work tree, both served by a local bare git repository
 * (test/support/gitHost.ts) and installed as the README says, `npm install git+<url>#<ref>`.
 * The work tree (every file git does not ignore, committed or not) becomes one commit on top of
 * the release in that repository, tagged `next`: the tag a team would install next.
 *
 * On the real engine (file backend, the bed's CLI and plugins): `up` with the release, an image
 * pushed into the registry; then the same stack with the work tree: `preview --diff` must not
 * replace the kind cluster (`<name>-cluster`) unless CHANGELOG.md's `## [Unreleased]` section
 * (or, while a release is prepared, its version's section, also above the tag's) names it in a
 * list item saying "replaces the kind cluster"; `up` keeps the control-plane
 * container (same ID, not restarted) and the registry keeps the image; a preview then shows no
 * changes; `destroy` removes the cluster and keeps the registry and network, which the test
 * removes by name.
 *
 * Needs `npm run testbed:e2e` (Docker engine, Pulumi CLI and plugins, kind, node image).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { REPO_DIR, run, tryRun } from "../support/bed";
import { commitWorkTree, ConsumerProject } from "../support/gitHost";
import {
  BASE_IMAGE,
  identity,
  manifestOf,
  NODE_IMAGE,
  type PushedImage,
} from "../support/lifecycle";

const NAME = "kdev-upg";
const COMPONENT = "upg";
/** The last release: the newest `v*` tag reachable from HEAD. */
const RELEASE = run("git", ["describe", "--tags", "--abbrev=0", "--match", "v*"], {
  cwd: REPO_DIR,
}).trim();
/** The tag the work tree is served as. */
const NEXT = "next";
const PROBE = { repo: "kdev-upg/probe", tag: "1" } as const;
const CONTROL_PLANE = `${NAME}-control-plane`;
const REGISTRY = `${NAME}-registry`;
const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KindDevEnvironment } from "pulumi-kind-dev";

const env = new KindDevEnvironment("${COMPONENT}", {
  clusterName: "${NAME}",
  workers: 0,
  nodeImage: "${NODE_IMAGE}",
  networkName: "${NAME}",
  registryName: "${REGISTRY}",
  registryPort: new pulumi.Config().requireNumber("registryPort"),
  caches: [],
});

export const registryHost = env.registryHost;
export const nodeNames = env.nodeNames;
`;

/**
 * The list items of CHANGELOG.md for what came after `release`, each on one line: its
 * `## [Unreleased]` section and any version section above `release`'s (one being released).
 */
function itemsSince(changelog: string, release: string): string[] {
  const start = changelog.indexOf("\n## [Unreleased]");
  const end = changelog.indexOf(`\n## [${release.replace(/^v/, "")}]`);
  if (start < 0 || end < start) {
    throw new Error(`CHANGELOG.md has no '## [Unreleased]' section above the one of ${release}`);
  }
  return changelog
    .slice(start + 1, end)
    .split(/\n(?=\s*[-*] )/)
    .filter((item) => /^\s*[-*] /.test(item))
    .map((item) => item.replace(/\s+/g, " ").trim());
}

describe("a stack upgraded from the last release to the work tree keeps its cluster", () => {
  const c = new ConsumerProject({
    label: "upgrade",
    name: NAME,
    stackName: "upg",
    tools: [],
    toolsHint: "'npm run testbed:e2e'",
    gitHost: false,
    release: RELEASE,
    workers: 0,
    keepsRegistry: true,
  });
  const probe = () => `localhost:${c.registryPort}/${PROBE.repo}:${PROBE.tag}`;
  let pushed: PushedImage;
  let controlPlane: string;
  let registryId: string;
  let clusterReplaced = false;
  let failed = false;

  beforeEach(({ skip, onTestFailed }) => {
    // Each step needs the one before it: after a failure the rest would only add noise.
    if (failed) {
      skip();
    }
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(() => {
    tryRun("docker", ["image", "rm", probe()]);
  });

  it("up with the release, an image pushed into its registry", async () => {
    expect(c.release!.tag, `the version in ${RELEASE}'s package.json`).toBe(RELEASE);
    c.typescriptProgram(PROGRAM);
    expect(await c.npmInstall(RELEASE)).toBe(c.release!.commit);
    await c.up();
    run("docker", ["tag", BASE_IMAGE, probe()]);
    run("docker", ["push", probe()]);
    pushed = await manifestOf(c.registryPort, PROBE.repo, PROBE.tag);
    controlPlane = identity(CONTROL_PLANE);
    registryId = identity(REGISTRY);
  });

  it("preview with the work tree: the cluster is not replaced, or CHANGELOG says it is", async () => {
    const next = commitWorkTree(c.release!, NEXT);
    expect(await c.npmInstall(NEXT)).toBe(next);
    const ops: string[] = [];
    await c.timed("preview --diff", () =>
      c.stack!.preview({
        diff: true,
        onOutput: (o) => process.stdout.write(o),
        onEvent: (event: EngineEvent) => {
          const step = event.resourcePreEvent?.metadata;
          if (step?.urn.endsWith(`::${COMPONENT}-cluster`)) {
            ops.push(step.op);
          }
        },
      }),
    );
    expect(ops.length, `a step for ${COMPONENT}-cluster in the preview`).toBeGreaterThan(0);
    clusterReplaced = ops.some((op) => REPLACING.has(op));
    if (clusterReplaced) {
      const changelog = readFileSync(path.join(REPO_DIR, "CHANGELOG.md"), "utf8");
      const items = itemsSince(changelog, RELEASE);
      expect(
        items.some((item) => /replaces the kind cluster/i.test(item)),
        `the work tree replaces the kind cluster of a stack made with ${RELEASE} ` +
          `(${COMPONENT}-cluster: ${ops.join(", ")}): CHANGELOG.md's '## [Unreleased]' section ` +
          "(or the section of the version being released) must name it, in a list item " +
          "saying 'replaces the kind cluster' (and the release takes a major version)",
      ).toBe(true);
    }
  });

  it("up with the work tree keeps the control plane and the registry's image", async () => {
    await c.up();
    if (!clusterReplaced) {
      expect(identity(CONTROL_PLANE), `${CONTROL_PLANE}: ID and start time`).toBe(controlPlane);
    }
    const same = identity(REGISTRY) === registryId;
    console.log(`[upgrade] ${REGISTRY}: ${same ? "the same container" : "a new or restarted one"}`);
    expect(await manifestOf(c.registryPort, PROBE.repo, PROBE.tag)).toEqual(pushed);
  });

  it("a preview right after shows no changes", () => c.expectNoChanges());

  it("destroy removes the cluster and keeps the registry and network", () => c.destroy());
});
