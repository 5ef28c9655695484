/**
 * `npm run up` (stacks/dev/up.sh) without Docker, Pulumi or kind: its usage, and what a user sees
 * while it builds missing tools, run in a copy of the repository whose test-bed recipes and
 * tools are stand-ins.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_DIR } from "../support/bed";

const UP = path.join(REPO_DIR, "stacks/dev/up.sh");

it.each([
  ["up", "--help", "Brings the dev stack up on a local file backend: no Pulumi account needed."],
  ["up", "-h", "Brings the dev stack up on a local file backend: no Pulumi account needed."],
  ["down", "--help", "Destroys the dev stack's cluster. The registry, the caches and their data"],
])("npm run %s -- %s: the usage, before any tool is looked for", (script, flag, first) => {
  // No docker, node, pulumi or kind on this PATH: the usage comes before any of them is used.
  const r = spawnSync("/bin/bash", [path.join(REPO_DIR, `stacks/dev/${script}.sh`), flag], {
    env: { PATH: "/nowhere" },
  });
  const out = r.stdout.toString();
  expect([r.status, r.stderr.toString(), out.slice(0, first.length)]).toEqual([0, "", first]);
  expect(out).toContain(`Usage: npm run ${script} [-- FLAG...], each FLAG passed to pulumi `);
});

/** A Go build's chatter: what a cold module cache prints, then one line that is not a download. */
const GO_CHATTER = `printf 'go: downloading example.com/m%s v1.0.0\\n' 1 2 3 >&2
echo "go: example.com/m1@v1.0.0: a line that is not a download" >&2`;

describe("building missing tools: each step's lines, without Go's downloads", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs up.sh in a copy with no pulumi or kind: the toolchain recipe prints a step line and
   * Go's chatter, then exits `toolchain`; on success it makes the stand-in pulumi and kind, and
   * the node-image recipe prints the image it made.
   */
  function upWithoutTools(toolchain: number) {
    dir = mkdtempSync(path.join(os.tmpdir(), "kind-dev-up-"));
    const file = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
      chmodSync(path.join(dir, rel), 0o755);
    };
    cpSync(UP, path.join(dir, "stacks/dev/up.sh"));
    file("Pulumi.yaml", "name: kind-dev\n");
    mkdirSync(path.join(dir, "node_modules"));
    for (const [tool, body] of Object.entries({
      docker: '[ "$1 $2" = "images -q" ] && echo 0123abcd; exit 0',
      uname: "echo Linux",
      "apt-get": "exit 0",
      go: "exit 0",
      node: "exit 0",
    })) {
      file(`bin/${tool}`, `#!/bin/sh\n${body}\n`);
    }
    file(
      "test/bed/pulumi-toolchain.sh",
      `echo "[testbed] step pulumi-toolchain: start" >&2\n${GO_CHATTER}\n` +
        `[ ${toolchain} = 0 ] || exit ${toolchain}\n` +
        `printf '#!/bin/sh\\necho "pulumi $*"\\n' > built/pulumi\n` +
        `cp built/pulumi built/kind && chmod +x built/pulumi built/kind\n`,
    );
    mkdirSync(path.join(dir, "built"));
    file("test/bed/env.sh", `PATH=$PWD/built:$PATH\n`);
    file("test/bed/node-image.sh", `${GO_CHATTER}\necho kind-dev-bed/node:v1\n`);
    const r = spawnSync("/bin/bash", ["stacks/dev/up.sh"], {
      cwd: dir,
      env: {
        PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`,
        HOME: dir,
        KIND_DEV_BED_CACHE: path.join(dir, "bed"),
      },
    });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  it("a build that succeeds: its own lines, the image it made, then pulumi up", () => {
    const r = upWithoutTools(0);
    expect(r.stderr.split("\n").filter((l) => /^(\[testbed\]|go:)/.test(l))).toEqual([
      "[testbed] step pulumi-toolchain: start",
      "go: example.com/m1@v1.0.0: a line that is not a download",
      "go: example.com/m1@v1.0.0: a line that is not a download",
    ]);
    expect(r.stdout.trim().split("\n").pop()).toBe(
      "pulumi up --yes --skip-preview --suppress-progress --non-interactive --stack dev --config kind-dev:nodeImage=kind-dev-bed/node:v1",
    );
    expect(r.code).toBe(0);
  });

  it("a build that fails: up.sh stops with its status, after its last line", () => {
    const r = upWithoutTools(3);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain("go: downloading");
    expect(r.stderr.trimEnd().split("\n").pop()).toBe(
      "go: example.com/m1@v1.0.0: a line that is not a download",
    );
    expect(r.stdout).not.toContain("pulumi up");
  });
});
