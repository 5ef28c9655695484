/**
 * The docs against the tests. Every command the README and docs/ tell a user to run is run
 * literally by test/e2e/readme.test.ts or covered by the test named in test/support/readme.ts.
 * docs/troubleshooting.md shows every line of the failure catalogue (test/support/failures.ts)
 * as the user sees it, with placeholders for the values; the integration test brings each one
 * about through `npm run up`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FAILURES, PLACEHOLDERS } from "../support/failures";
import {
  COVERED_ELSEWHERE,
  readmeCommands,
  readReadmeCommands,
  RELEASE_TAG,
} from "../support/readme";
import { commandLine, HOSTED, npmInstallArgs, packageAddArgs } from "../support/install";

const read = (file: string) => readFileSync(path.join(__dirname, "../..", file), "utf8");

describe("readmeCommands", () => {
  it("takes sh blocks only, joins continued lines, drops comments", () => {
    const md = [
      "```sh",
      "npm ci && npm run up    # comment",
      "# a whole comment",
      "kubectl get cm \\",
      "  -o name",
      "```",
      "```ts",
      "const x = 1;",
      "```",
      "```bash",
      "npx kind-dev doctor",
      "```",
    ].join("\n");
    expect(readmeCommands(md)).toEqual([
      "npm ci && npm run up",
      "kubectl get cm -o name",
      "npx kind-dev doctor",
    ]);
  });
});

describe("the commands of the README and docs/", () => {
  const e2e = read("test/e2e/readme.test.ts");
  it.each(readReadmeCommands())("%s is run by a test", (command) => {
    if (command in COVERED_ELSEWHERE) {
      return;
    }
    // readme.test.ts names each command it runs as a string literal of its own.
    expect(e2e).toContain(JSON.stringify(command));
  });
});

describe("docs/troubleshooting.md", () => {
  const page = read("docs/troubleshooting.md");
  it.each(Object.entries(FAILURES))("shows the %s line as printed", (_name, line) => {
    expect(page).toContain(`pulumi-kind-dev: ${line(PLACEHOLDERS)}`);
  });
});

describe("the README's install section", () => {
  const readme = read("README.md");
  const commands = readmeCommands(readme);
  const pkg = JSON.parse(read("package.json")) as {
    repository: { url: string };
  };

  // The consumer tests run these with a local git host in github.com's place.
  it.each([
    ["npm", npmInstallArgs(HOSTED.gitUrl, RELEASE_TAG)],
    ["pulumi", packageAddArgs(HOSTED.host, RELEASE_TAG)],
    ["pulumi", ["install"]],
  ])("shows %s %s, as the consumer tests run it", (file, args) => {
    expect(commands).toContain(commandLine(file, args));
  });

  it("names package.json's version and repository", () => {
    expect(RELEASE_TAG).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(pkg.repository.url).toBe(`git+${HOSTED.gitUrl}`);
    const installs = commands.filter((c) => /^(npm install git\+|pulumi package add )/.test(c));
    expect(installs).toEqual([
      commandLine("npm", npmInstallArgs(HOSTED.gitUrl, RELEASE_TAG)),
      commandLine("pulumi", packageAddArgs(HOSTED.host, RELEASE_TAG)),
    ]);
  });
});
