/**
 * The commands the README and the pages of docs/ tell a user to run: every line of their `sh`
 * blocks (a trailing backslash joins the next line; comments go). Each one is either run,
 * literally, by test/e2e/readme.test.ts or named here with the test that covers it in another
 * form; a unit test fails on a command that is neither.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ALLOW_GIT_COMMAND, commandLine, HOSTED, npmInstallArgs, packageAddArgs } from "./install";

const ROOT = path.join(__dirname, "../..");

/** The tag of package.json's version: what the README's install commands name. */
export const RELEASE_TAG = `v${(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version}`;

/** README.md and docs/*.md: what users read. */
export const USER_DOCS = [
  "README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

/** The commands of the `sh` code blocks of `markdown`, in order, comments stripped. */
export function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inBlock = false;
  let pending = "";
  for (const line of markdown.split("\n")) {
    if (/^```/.test(line)) {
      inBlock = !inBlock && /^```(sh|bash|shell)\s*$/.test(line);
      continue;
    }
    if (!inBlock) {
      continue;
    }
    const text = line.replace(/\s+#.*$/, "").replace(/^#.*$/, "");
    if (text.endsWith("\\")) {
      pending += `${text.slice(0, -1).trim()} `;
      continue;
    }
    const command = (pending + text.trim()).trim();
    pending = "";
    if (command !== "") {
      commands.push(command);
    }
  }
  return commands;
}

/** Every command of USER_DOCS, once each. */
export function readReadmeCommands(): string[] {
  const all = USER_DOCS.flatMap((f) => readmeCommands(readFileSync(path.join(ROOT, f), "utf8")));
  return [...new Set(all)];
}

/** Commands that test/e2e/readme.test.ts does not run literally, and what covers them. */
export const COVERED_ELSEWHERE: Readonly<Record<string, string>> = {
  [ALLOW_GIT_COMMAND]:
    "test/consumer/npm12.test.ts runs it before the install with npm 12, consumer.test.ts with the machine's npm",
  [commandLine("npm", npmInstallArgs(HOSTED.gitUrl, RELEASE_TAG))]:
    "test/consumer/consumer.test.ts runs it with a local bare repository for github.com",
  [commandLine("pulumi", packageAddArgs(HOSTED.host, RELEASE_TAG))]:
    "test/consumer/yaml.test.ts and python.test.ts run it with a local git host for github.com",
  "pulumi install":
    "test/consumer/yaml.test.ts and python.test.ts run it in a fresh copy of the program",
  "npm ci && npm run bench": "the benchmark itself (40 minutes)",
  "BENCH_SMOKE=1 npm run bench": "the benchmark itself",
};
