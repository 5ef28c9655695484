/**
 * docs/troubleshooting.md shows every line of the failure catalogue (test/support/failures.ts)
 * as the user sees it, with placeholders for the values; the integration test brings each one
 * about through `npm run up`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FAILURES, PLACEHOLDERS } from "../support/failures";

const page = readFileSync(path.join(__dirname, "../../docs/troubleshooting.md"), "utf8");

describe("docs/troubleshooting.md", () => {
  it.each(Object.entries(FAILURES))("shows the %s line as printed", (_name, line) => {
    expect(page).toContain(`pulumi-kind-dev: ${line(PLACEHOLDERS)}`);
  });
});
