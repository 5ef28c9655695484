/**
 * The contributors' npm scripts (package.json): -h and --help print the script's opening comment
 * and exit 0; an unknown argument prints a usage line and exits 2, before any work starts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_DIR } from "../support/bed";

const bedCache = mkdtempSync(path.join(os.tmpdir(), "kind-dev-commands-"));
afterAll(() => rmSync(bedCache, { recursive: true, force: true }));

function run(script: string, args: string[]) {
  const r = spawnSync("bash", [script, ...args], {
    cwd: REPO_DIR,
    env: { PATH: "/usr/bin:/bin", HOME: bedCache, KIND_DEV_BED_CACHE: bedCache },
    timeout: 10_000,
  });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe.each([
  [
    "test/bed/testbed.sh",
    "The test bed: everything the integration tests need on a machine with no internet, built",
    [["--nodeimage"], ["--node-image", "--help"]],
    "usage: test/bed/testbed.sh [--node-image]\n",
  ],
  [
    "test/bed/node24.sh",
    "The other end of the supported ranges (package.json's peerDependencies) from the lock file's",
    [["--e2e", "--tools"], ["e2e"]],
    "usage: test/bed/node24.sh [--e2e | --tools]\n",
  ],
  [
    "test/unit/scripts/shells.sh",
    "The unit tests of the component's scripts (test/unit/scripts) with another shell as /bin/sh.",
    [["zsh"], ["bash", "--x"]],
    "usage: test/unit/scripts/shells.sh [bash] [busybox]\n",
  ],
  [
    "test/bench/run.sh",
    "npm run bench: builds/checks the test bed (Docker, images, Pulumi, kind, node image) and ctlptl",
    [["--smoke"]],
    "usage: npm run bench (no arguments; docs/benchmarks.md describes the BENCH_* variables)\n",
  ],
  [
    "test/schema/check.sh",
    "The component provider's schema snapshot: `pulumi package get-schema provider` with the test",
    [["--update"]],
    "usage: test/schema/check.sh (no arguments; UPDATE_SCHEMA=1 records the snapshot)\n",
  ],
  [
    "test/release/check.sh",
    'The release check (CONTRIBUTING.md, "Releasing"): what must hold for package.json\'s version to',
    [["--tag"]],
    "release: unknown argument '--tag' (--tagged, --between-releases, --skip-schema, --metadata-only)\n",
  ],
])("%s", (script, firstLine, badArgs, usage) => {
  it.each(["--help", "-h"])("%s: its opening comment, without directives; exit 0", (flag) => {
    const r = run(script, [flag]);
    expect([r.status, r.stderr, r.stdout.split("\n")[0]]).toEqual([0, "", firstLine]);
    expect(r.stdout).not.toMatch(/^(#|!|shellcheck)/m);
  });

  it.each(badArgs)("%s ...: a usage line, exit 2", (...args) => {
    expect(run(script, args)).toEqual({ status: 2, stdout: "", stderr: usage });
  });
});
