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
 * changes; `destroy` removes the cluster and keeps the registry, which the test removes by name.
 *
 * Needs `npm run testbed:e2e` (Docker engine, Pulumi CLI and plugins, kind, node image).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type EngineEvent,
  LocalWorkspace,
  PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as bed from "../support/bed";
import { makeReleaseRepo, type ReleaseRepo } from "../support/gitHost";
import { commandLine, npmInstallArgs } from "../support/install";
import {
  BASE_IMAGE,
  identity,
  manifestOf,
  NODE_IMAGE,
  type PushedImage,
} from "../support/lifecycle";

const NAME = "kdev-upg";
const COMPONENT = "upg";
const STACK = "upg";
/** The tag the work tree is served as. */
const NEXT = "next";
const PROBE = { repo: "kdev-upg/probe", tag: "1" } as const;
const CONTROL_PLANE = `${NAME}-control-plane`;
const REGISTRY = `${NAME}-registry`;
const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);

/** The environment's args come from the stack's config (`environment`, JSON). */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KindDevEnvironment, type KindDevEnvironmentArgs } from "pulumi-kind-dev";

const args = new pulumi.Config().requireObject<KindDevEnvironmentArgs>("environment");
export const registryHost = new KindDevEnvironment("${COMPONENT}", args).registryHost;
`;

/** The version of `pkg` this repository installs: the team declares the same. */
function repoVersion(pkg: string): string {
  const file = path.join(bed.REPO_DIR, "node_modules", pkg, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

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

const bareDir = (repo: ReleaseRepo): string => repo.fileUrl.slice("file://".length);

/**
 * The work tree as a commit on top of the release in `repo`'s bare repository, tagged `tag`;
 * an index of its own, so the checkout's index is not touched.
 */
function commitWorkTree(repo: ReleaseRepo, work: string, tag: string): string {
  const env = {
    GIT_DIR: bareDir(repo),
    GIT_WORK_TREE: bed.REPO_DIR,
    GIT_INDEX_FILE: path.join(work, "work-tree.index"),
    GIT_AUTHOR_NAME: "release",
    GIT_AUTHOR_EMAIL: "release@localhost",
    GIT_COMMITTER_NAME: "release",
    GIT_COMMITTER_EMAIL: "release@localhost",
  };
  bed.run("git", ["read-tree", "main"], { env, cwd: bed.REPO_DIR });
  bed.run("git", ["add", "--all"], { env, cwd: bed.REPO_DIR });
  const tree = bed.run("git", ["write-tree"], { env, cwd: bed.REPO_DIR }).trim();
  const commit = bed
    .run("git", ["commit-tree", tree, "-p", "main", "-m", "the work tree"], {
      env,
      cwd: bed.REPO_DIR,
    })
    .trim();
  bed.run("git", ["tag", "-a", tag, "-m", tag, commit], { env, cwd: bed.REPO_DIR });
  return commit;
}

/** What the test makes and destroy keeps, removed by exact name (docker's arguments). */
const LEFTOVERS: readonly (readonly string[])[] = [
  ["rm", "-f", REGISTRY],
  ["volume", "rm", `${REGISTRY}-data`],
  ["network", "rm", NAME],
];

function cleanup(): void {
  bed.tryRun("kind", ["delete", "cluster", "--name", NAME]);
  for (const args of LEFTOVERS) {
    bed.tryRun("docker", [...args]);
  }
}

/** npm's flags for an install: packages from its cache where it has them, no audit. */
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
const NPM_TIMEOUT_MS = 900_000;
const seconds = (start: number): string => `${((Date.now() - start) / 1000).toFixed(1)}s`;
const log = (line: string): void => console.log(`[upgrade] ${line}`);

const containerId = (name: string): string =>
  bed.run("docker", ["inspect", "-f", "{{.Id}}", name]).trim();

describe("a stack upgraded from the last release to the work tree keeps its cluster", () => {
  let work: string;
  let teamDir: string;
  let repo: ReleaseRepo;
  let release: string;
  let stack: Stack;
  let registryPort: number;
  let pushed: PushedImage;
  let controlPlane: string;
  let registryId: string;
  let clusterReplaced = false;
  let failed = false;

  /** npm install of `ref` from the bare repository; returns the commit npm resolved. */
  async function install(ref: string): Promise<string> {
    const args = npmInstallArgs(repo.fileUrl, ref);
    const start = Date.now();
    const npm = await bed.runAsync("npm", [...args, ...NPM_FLAGS], {
      cwd: teamDir,
      timeoutMs: NPM_TIMEOUT_MS,
    });
    log(`${commandLine("npm", args)}: ${seconds(start)}`);
    expect(npm.code, `${npm.stdout}\n${npm.stderr}`).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(teamDir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { resolved?: string }>;
    };
    const resolved = lock.packages["node_modules/pulumi-kind-dev"]?.resolved ?? "";
    return resolved.slice(resolved.lastIndexOf("#") + 1);
  }

  beforeAll(async () => {
    bed.requireE2eBed(NODE_IMAGE);
    cleanup();
    release = bed
      .run("git", ["describe", "--tags", "--abbrev=0", "--match", "v*"], {
        cwd: bed.REPO_DIR,
      })
      .trim();
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-upg-"));
    teamDir = path.join(work, "team-infra");
    mkdirSync(teamDir);
    repo = makeReleaseRepo(work, release);
    expect(repo.tag, `the version in ${release}'s package.json`).toBe(release);
    const dependencies = Object.fromEntries(
      ["@pulumi/kubernetes", "@pulumi/pulumi", "@types/node", "ts-node", "typescript"].map(
        (pkg) => [pkg, repoVersion(pkg)],
      ),
    );
    writeFileSync(
      path.join(teamDir, "package.json"),
      JSON.stringify({ name: "team-infra", private: true, dependencies }),
    );
    writeFileSync(
      path.join(teamDir, "Pulumi.yaml"),
      "name: team-infra\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
    );
    writeFileSync(path.join(teamDir, "index.ts"), PROGRAM);
    registryPort = await bed.freePort();
  }, 120_000);

  beforeEach(({ skip, onTestFailed }) => {
    // Each step needs the one before it: after a failure the rest would only add noise.
    if (failed) {
      skip();
    }
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    cleanup();
    bed.tryRun("docker", ["image", "rm", `localhost:${registryPort}/${PROBE.repo}:${PROBE.tag}`]);
    if (work && process.env["KEEP_CONSUMER_DIR"] !== "1") {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it("up with the release, an image pushed into its registry", async () => {
    const commit = await install(release);
    expect(commit).toBe(
      bed.run("git", ["rev-parse", "main"], { env: { GIT_DIR: bareDir(repo) } }).trim(),
    );
    process.env["PATH"] = bed.TOOLS_ENV["PATH"];
    const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
    const backend = path.join(work, "state");
    mkdirSync(backend);
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: STACK, workDir: teamDir },
      { pulumiCommand, envVars: bed.pulumiEnv(backend, `${bed.WRAPPER_DIR}:`) },
    );
    const args = {
      clusterName: NAME,
      workers: 0,
      nodeImage: NODE_IMAGE,
      networkName: NAME,
      registryName: REGISTRY,
      registryPort,
      caches: [],
    };
    await stack.setConfig("team-infra:environment", { value: JSON.stringify(args) });
    const start = Date.now();
    const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
    log(`up (${release}): ${seconds(start)}`);
    expect(result.summary.result).toBe("succeeded");

    const ref = `localhost:${registryPort}/${PROBE.repo}:${PROBE.tag}`;
    bed.run("docker", ["tag", BASE_IMAGE, ref]);
    bed.run("docker", ["push", ref]);
    pushed = await manifestOf(registryPort, PROBE.repo, PROBE.tag);
    controlPlane = identity(CONTROL_PLANE);
    registryId = containerId(REGISTRY);
  });

  it("preview with the work tree: the cluster is not replaced, or CHANGELOG says it is", async () => {
    const next = commitWorkTree(repo, work, NEXT);
    expect(await install(NEXT)).toBe(next);
    const ops: string[] = [];
    const start = Date.now();
    await stack.preview({
      diff: true,
      onOutput: (o) => process.stdout.write(o),
      onEvent: (event: EngineEvent) => {
        const step = event.resourcePreEvent?.metadata;
        if (step?.urn.endsWith(`::${COMPONENT}-cluster`)) {
          ops.push(step.op);
        }
      },
    });
    log(`preview --diff (${NEXT}): ${seconds(start)}`);
    expect(ops.length, `a step for ${COMPONENT}-cluster in the preview`).toBeGreaterThan(0);
    clusterReplaced = ops.some((op) => REPLACING.has(op));
    if (clusterReplaced) {
      const changelog = readFileSync(path.join(bed.REPO_DIR, "CHANGELOG.md"), "utf8");
      const items = itemsSince(changelog, release);
      expect(
        items.some((item) => /replaces the kind cluster/i.test(item)),
        `the work tree replaces the kind cluster of a stack made with ${release} ` +
          `(${COMPONENT}-cluster: ${ops.join(", ")}): CHANGELOG.md's '## [Unreleased]' section ` +
          "(or the section of the version being released) must name it, in a list item " +
          "saying 'replaces the kind cluster' (and the release takes a major version)",
      ).toBe(true);
    }
  });

  it("up with the work tree keeps the control plane and the registry's image", async () => {
    const start = Date.now();
    const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
    log(`up (${NEXT}): ${seconds(start)}`);
    expect(result.summary.result).toBe("succeeded");
    if (!clusterReplaced) {
      expect(identity(CONTROL_PLANE), `${CONTROL_PLANE}: ID and start time`).toBe(controlPlane);
    }
    log(
      `${REGISTRY}: ${containerId(REGISTRY) === registryId ? "the same container" : "a new container"}`,
    );
    expect(await manifestOf(registryPort, PROBE.repo, PROBE.tag)).toEqual(pushed);
  });

  it("a preview right after shows no changes", async () => {
    const preview = await stack.preview();
    const changes = Object.entries(preview.changeSummary).filter(
      ([op, n]) => op !== "same" && (n ?? 0) > 0,
    );
    expect(changes).toEqual([]);
  });

  it("destroy removes the cluster and keeps the registry", async () => {
    const result = await stack.destroy({ onOutput: (o) => process.stdout.write(o) });
    expect(result.summary.result).toBe("succeeded");
    expect(bed.run("kind", ["get", "clusters"]).split("\n")).not.toContain(NAME);
    expect(bed.tryRun("docker", ["inspect", REGISTRY]).ok).toBe(true);
  });
});
