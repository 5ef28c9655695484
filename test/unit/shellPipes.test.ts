/**
 * A class of shell bug ruled out repository-wide: under `set -o pipefail`, a reader that stops
 * before the end of its input (`grep -q`, `grep -m`, `head`, `sed Nq`, an awk `exit`) makes the
 * producer die of SIGPIPE, so the pipeline fails whenever the match comes early: at random, and
 * differently per docker client. Such scripts capture the producer's output first and match the
 * captured value. Also: a command that may read standard input inside a `while read` loop eats the
 * loop's input unless it is given `</dev/null` (or `-n`, or no stdin flag at all, as `docker exec`
 * without `-i`).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(__dirname, "../..");

/** Readers that may exit before their input ends. */
const EARLY_READER =
  /\|\s*(?:grep\s+(?:-\w*[qm]\w*|--quiet|--max-count)\b|head\b|sed\s+(?:-n\s+)?['"]?\d*q|awk\b[^|]*\bexit\b)/;

/** Lines of a shell text that pipe into an early reader, when the text sets pipefail. */
export function earlyReaderPipes(text: string): string[] {
  if (!/\bpipefail\b/.test(text)) {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#") && EARLY_READER.test(line));
}

/** Every shell file git tracks: by extension, or by a shebang naming sh or bash. */
function shellFiles(): string[] {
  const files = execFileSync("git", ["ls-files"], { cwd: REPO, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "");
  return files.filter((f) => {
    if (f.endsWith(".sh")) {
      return true;
    }
    if (/\.[a-z]+$/.test(path.basename(f))) {
      return false;
    }
    const head = readFileSync(path.join(REPO, f), "utf8").split("\n", 1)[0] ?? "";
    return /^#!.*\b(?:ba)?sh\b/.test(head);
  });
}

describe("early readers behind pipes under pipefail", () => {
  it.each([
    ['docker exec "$id" ctr images list -q | grep -qxF "$img"'],
    ["docker port x 5000/tcp | head -n1"],
    ["fc-list | grep -qi dejavu"],
    ["kind get clusters | grep -m1 dev"],
    ["ls | sed 1q"],
    ["ls | awk '/x/ {found=1; exit}'"],
  ])("flags %s", (line) => {
    expect(earlyReaderPipes(`set -o pipefail\n${line}\n`)).toEqual([line]);
  });

  it.each([
    ['listed=$(docker exec "$id" ctr images list -q)'],
    ["ls | grep -c x"],
    ["ls | sed -n 1p"],
    ["# a comment: ls | grep -q x"],
  ])("accepts %s", (line) => {
    expect(earlyReaderPipes(`set -o pipefail\n${line}\n`)).toEqual([]);
  });

  it("ignores scripts without pipefail, where the pipeline's status is its last command's", () => {
    expect(earlyReaderPipes("set -eu\nls | grep -q x\n")).toEqual([]);
  });

  it("finds no such pipe in any shell file of the repository", () => {
    const files = shellFiles();
    expect(files).toContain("test/bed/node-image.sh");
    expect(files).toContain(".ci/run");
    const found = files.flatMap((f) =>
      earlyReaderPipes(readFileSync(path.join(REPO, f), "utf8")).map((l) => `${f}: ${l.trim()}`),
    );
    expect(found).toEqual([]);
  });
});
