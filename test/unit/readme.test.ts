/**
 * Every command the README and docs/ tell a user to run is run literally by
 * test/e2e/readme.test.ts or covered by the test named in test/support/readme.ts.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { commandLine, HOSTED, npmInstallArgs, packageAddArgs } from "../support/install";
import {
  COVERED_ELSEWHERE,
  readmeCommands,
  readReadmeCommands,
  RELEASE_TAG,
} from "../support/readme";

const e2e = readFileSync(path.join(__dirname, "../e2e/readme.test.ts"), "utf8");

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
  it.each(readReadmeCommands())("%s is run by a test", (command) => {
    if (command in COVERED_ELSEWHERE) {
      return;
    }
    // readme.test.ts names each command it runs as a string literal of its own.
    expect(e2e).toContain(JSON.stringify(command));
  });
});

describe("the README's install section", () => {
  const readme = readFileSync(path.join(__dirname, "../../README.md"), "utf8");
  const commands = readmeCommands(readme);
  const pkg = JSON.parse(readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as {
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
