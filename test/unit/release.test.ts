/**
 * The release check (test/release/check.sh) on throwaway git repositories that carry only what
 * its metadata checks read: package.json, provider/package.json, CHANGELOG.md, README.md. Each
 * case changes one thing and expects the line that names it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const CHECK = path.join(__dirname, "../release/check.sh");
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
  }
});

const README = (tag: string): string =>
  [
    "# x",
    "```sh",
    `npm install git+https://github.com/OWNER/pulumi-kind-dev.git#${tag}`,
    "```",
    "```sh",
    `pulumi package add github.com/OWNER/pulumi-kind-dev.git/provider@${tag}`,
    "```",
    "",
  ].join("\n");

interface Files {
  version?: string;
  providerVersion?: string;
  changelog?: string;
  readme?: string;
  repository?: string;
}

function git(dir: string, ...args: string[]): void {
  const r = spawnSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@localhost",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@localhost",
    },
  });
  if (r.status !== 0) {
    throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  }
}

/** A committed repository with one file set; returns its path. */
function repo(files: Files = {}): string {
  const version = files.version ?? "1.2.3";
  const dir = mkdtempSync(path.join(os.tmpdir(), "kdev-release-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "provider"));
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({
      name: "pulumi-kind-dev",
      version,
      repository: {
        type: "git",
        url: files.repository ?? "git+https://github.com/OWNER/pulumi-kind-dev.git",
      },
    }),
  );
  writeFileSync(
    path.join(dir, "provider/package.json"),
    JSON.stringify({ name: "kind-dev", version: files.providerVersion ?? version }),
  );
  writeFileSync(
    path.join(dir, "CHANGELOG.md"),
    files.changelog ??
      `# Changelog\n\n## Unreleased\n\n## [${version}] - 2026-12-06\n\n- Something.\n\n## [1.0.0] - 2026-01-01\n\n- Older.\n`,
  );
  writeFileSync(path.join(dir, "README.md"), files.readme ?? README(`v${version}`));
  git(dir, "init", "--quiet", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "--quiet", "-m", "release");
  return dir;
}

function check(dir: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync("bash", [CHECK, "--metadata-only", ...args], {
    encoding: "utf8",
    env: { ...process.env, KIND_DEV_RELEASE_DIR: dir },
  });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

describe("test/release/check.sh --metadata-only", () => {
  it("passes a consistent untagged repository, and the same tagged with --tagged", () => {
    const dir = repo();
    const untagged = check(dir);
    expect(untagged.out).toContain("release: ok: tag: v1.2.3 is free\n");
    expect(untagged.out).toContain("release: 4 passed, 0 failed");
    expect(untagged.code).toBe(0);
    expect(check(dir, "--between-releases").out).toContain(
      "release: ok: tag: v1.2.3 is free: a release being prepared, or a clone without the last release's tag (git fetch --tags)\n",
    );
    git(dir, "tag", "-a", "v1.2.3", "-m", "v1.2.3");
    const tagged = check(dir, "--tagged");
    expect(tagged.out).toContain("release: ok: tag: HEAD is v1.2.3, the work tree is clean");
    expect(tagged.code).toBe(0);
  });

  it.each<[string, Files, string]>([
    ["a version that is not X.Y.Z", { version: "1.2" }, "is not X.Y.Z"],
    [
      "the provider's version behind",
      { providerVersion: "1.0.0" },
      "provider/package.json has 1.0.0, package.json 1.2.3",
    ],
    [
      "no CHANGELOG section for the version",
      { changelog: "# Changelog\n\n## [1.0.0] - 2026-01-01\n\n- Older.\n" },
      "CHANGELOG.md has no '## [1.2.3] - YYYY-MM-DD' section",
    ],
    [
      "an empty CHANGELOG section",
      { changelog: "## [1.2.3] - 2026-12-06\n\n## [1.0.0] - 2026-01-01\n\n- Older.\n" },
      "the 1.2.3 section is empty",
    ],
    [
      "a CHANGELOG section without a date",
      { changelog: "## [1.2.3] - soon\n\n- Something.\n" },
      "is not '## [1.2.3] - YYYY-MM-DD'",
    ],
    [
      "a README naming the previous tag",
      { readme: README("v1.0.0") },
      "README.md does not show: npm install git+https://github.com/OWNER/pulumi-kind-dev.git#v1.2.3",
    ],
    [
      "a repository that is not on github.com",
      { repository: "git+https://example.org/OWNER/pulumi-kind-dev.git" },
      "is not git+https://github.com/OWNER/NAME.git",
    ],
  ])("fails %s", (_what, files, message) => {
    const r = check(repo(files));
    expect(r.out).toContain(message);
    expect(r.out).toContain("release: FAILED:");
    expect(r.code).toBe(1);
  });

  it("fails a tag on HEAD that is not package.json's version", () => {
    const dir = repo();
    git(dir, "tag", "v1.2.4");
    const r = check(dir);
    expect(r.out).toContain("tag: HEAD is tagged v1.2.4, but package.json's version is 1.2.3");
    expect(r.code).toBe(1);
  });

  it("fails a version whose tag is on an earlier commit (not bumped)", () => {
    const dir = repo();
    git(dir, "tag", "v1.2.3");
    writeFileSync(path.join(dir, "NEW"), "x\n");
    git(dir, "add", "-A");
    git(dir, "commit", "--quiet", "-m", "after the release");
    const r = check(dir);
    expect(r.out).toMatch(/tag: v1\.2\.3 already tags another commit \([0-9a-f]{40}\)/);
    expect(r.code).toBe(1);
    const between = check(dir, "--between-releases");
    expect(between.out).toContain(
      "release: ok: tag: v1.2.3 is the last release, an earlier commit of HEAD; the next release bumps the version",
    );
    expect(between.code).toBe(0);
  });

  it("with --between-releases, still fails the version's tag on a commit outside HEAD's history", () => {
    const dir = repo();
    git(dir, "checkout", "--quiet", "-b", "side");
    writeFileSync(path.join(dir, "SIDE"), "x\n");
    git(dir, "add", "-A");
    git(dir, "commit", "--quiet", "-m", "elsewhere");
    git(dir, "tag", "v1.2.3");
    git(dir, "checkout", "--quiet", "-");
    const r = check(dir, "--between-releases");
    expect(r.out).toMatch(/tag: v1\.2\.3 already tags another commit \([0-9a-f]{40}\)/);
    expect(r.code).toBe(1);
  });

  it("with --tagged, fails an untagged HEAD and a dirty work tree", () => {
    const dir = repo();
    expect(check(dir, "--tagged").out).toContain("tag: HEAD is not tagged v1.2.3");
    git(dir, "tag", "v1.2.3");
    writeFileSync(path.join(dir, "README.md"), `${README("v1.2.3")}\nmore\n`);
    const dirty = check(dir, "--tagged");
    expect(dirty.out).toContain("tag: the work tree has uncommitted changes");
    expect(dirty.code).toBe(1);
  });

  it("refuses an unknown argument", () => {
    const r = check(repo(), "--tag");
    expect(r.out).toContain("unknown argument '--tag'");
    expect(r.code).toBe(2);
  });
});
