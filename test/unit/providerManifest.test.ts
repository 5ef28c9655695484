/**
 * provider/package.json lists what the component provider runs and the root's `prepare` builds
 * with, because a Pulumi CLI that installs a source plugin's dependencies itself (3.184.0) runs
 * `npm install --production` in provider/, which installs only that workspace's dependencies.
 * Each must be the root's own dependency at the same range, or npm installs a second copy.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const read = (file: string): Manifest =>
  JSON.parse(readFileSync(path.join(__dirname, "../..", file), "utf8")) as Manifest;

describe("provider/package.json", () => {
  const root = read("package.json");
  const provider = read("provider/package.json").dependencies ?? {};

  it("has the root's dependencies and what the provider and the build run with", () => {
    expect(Object.keys(provider).sort()).toEqual(
      [
        ...Object.keys(root.dependencies ?? {}),
        "@pulumi/kubernetes",
        "@pulumi/pulumi",
        "@types/node",
        "ts-node",
        "typescript",
      ].sort(),
    );
  });

  it("at the root's ranges", () => {
    for (const [name, range] of Object.entries(provider)) {
      expect(range, name).toBe(root.dependencies?.[name] ?? root.devDependencies?.[name]);
    }
  });
});
