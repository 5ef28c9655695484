/**
 * The README's install of a release by its tag with npm 12, which fetches no git dependency
 * unless the project allows it, on Node 24 (test/bed/node24.sh --tools): without the README's
 * `.npmrc` line npm refuses the tag; with it the tag installs, built by its `prepare`, and loads,
 * a teammate's `npm ci` installs it again, and `npm install` of a newer tag moves it there. A
 * local bare repository stands in for the hosting service (test/support/gitHost.ts). Needs no
 * Docker and no Pulumi CLI.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_DIR, run, runAsync } from "../support/bed";
import { commitWorkTree, makeReleaseRepo, type ReleaseRepo } from "../support/gitHost";
import { ALLOW_GIT_COMMAND, npmInstallArgs } from "../support/install";

describe("npm 12 on Node 24: the README's install of a release by its tag", () => {
  let work = "";
  let project = "";
  let release: ReleaseRepo;
  /** Node 24 and npm 12, first on PATH for every command here. */
  let env: Record<string, string>;

  beforeAll(() => {
    const tools = run("bash", [path.join(REPO_DIR, "test/bed/node24.sh"), "--tools"]).trim();
    env = { PATH: `${tools}:${process.env["PATH"] ?? ""}` };
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-npm12-"));
    release = makeReleaseRepo(work);
    project = path.join(work, "project");
    mkdirSync(project);
    writeFileSync(
      path.join(project, "package.json"),
      '{ "name": "team-infra", "private": true }\n',
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const inProject = (file: string, args: readonly string[]) =>
    runAsync(file, args, { cwd: project, env, timeoutMs: 900_000 });
  const npm = (...args: string[]) => inProject("npm", [...args, "--no-audit", "--no-fund"]);

  it("runs npm 12 with Node 24", async () => {
    const versions = await inProject("bash", ["-c", 'echo "$(node --version) $(npm --version)"']);
    expect(versions.stdout).toMatch(/^v24\.\d+\.\d+ 12\.\d+\.\d+\n$/);
  });

  it("without the README's .npmrc line, npm refuses the tag", async () => {
    const r = await npm(...npmInstallArgs(release.fileUrl, release.tag));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("npm error code EALLOWGIT");
    expect(existsSync(path.join(project, "node_modules/pulumi-kind-dev"))).toBe(false);
  });

  it("with it, the tag installs built and loads; a teammate's npm ci installs it again", async () => {
    expect((await inProject("bash", ["-c", ALLOW_GIT_COMMAND])).code).toBe(0);
    const loads = async () => {
      const r = await inProject("node", [
        "-e",
        'const m = require("pulumi-kind-dev"); console.log(typeof m.KindDevEnvironment, typeof m.runDoctor)',
      ]);
      expect(r.stderr).toBe("");
      return r.stdout;
    };
    const install = await npm(...npmInstallArgs(release.fileUrl, release.tag));
    expect(install.code, install.stderr).toBe(0);
    expect(await loads()).toBe("function function\n");

    rmSync(path.join(project, "node_modules"), { recursive: true });
    const ci = await npm("ci");
    expect(ci.code, ci.stderr).toBe(0);
    expect(await loads()).toBe("function function\n");
  });

  it("npm install of a newer tag moves the package there", async () => {
    const next = commitWorkTree(release, "v-next");
    const r = await npm(...npmInstallArgs(release.fileUrl, "v-next"));
    expect(r.code, r.stderr).toBe(0);
    const lock = readFileSync(path.join(project, "package-lock.json"), "utf8");
    expect(lock).toContain(`"resolved": "git+${release.fileUrl}#${next}"`);
  });
});
