/**
 * LocalImage under mocks: what it hands `@pulumi/docker-build`'s Image (every input, exactly)
 * and that its outputs are made of what the provider answers, which each test chooses, so a wrong
 * wiring cannot agree with it by accident. The real build and push, on the engine with the
 * docker-build plugin: test/consumer/consumer.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const IMAGE = "docker-build:index:Image";
/** Every registration: what the component hands each provider. */
const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
/** The `digest` the mocked docker-build provider answers, set by each test. */
let providerDigest = "";

// The builder of the current docker context (lookup.test.ts runs the real lookup).
const contextBuilder = vi.hoisted(() => vi.fn(() => "desktop-linux"));
vi.mock("../../components/lookup", () => ({ contextBuilder }));

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return {
        id: `${args.name}-id`,
        state: args.type === IMAGE ? { ...args.inputs, digest: providerDigest } : {},
      };
    },
    call(args) {
      throw new Error(`unmocked invoke ${args.token}`);
    },
  },
  "kind-dev-test",
  "unit",
  false,
);

type Lib = typeof import("../../components");
let lib: Lib;
let context: string;

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

beforeAll(async () => {
  lib = await import("../../components");
  context = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-ctx-"));
  fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
  fs.mkdirSync(path.join(context, "build"));
  fs.writeFileSync(path.join(context, "build/Other.Dockerfile"), "FROM scratch\n");
});

afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

beforeEach(() => {
  registered.length = 0;
});

describe("LocalImage under mocks", () => {
  it("hands docker-build's Image the build and the push, and makes ref of its digest", async () => {
    providerDigest = `sha256:${"3f".repeat(32)}`;
    const img = new lib.LocalImage("app", {
      repository: "team/app",
      tag: "dev",
      context,
      dockerfile: "build/Other.Dockerfile",
      registryHost: pulumi.output("localhost:5001"),
      buildArgs: { VERSION: pulumi.output("1") },
      target: "runtime",
      platform: "linux/amd64",
    });
    expect(await valueOf(img.ref)).toBe(`localhost:5001/team/app@sha256:${"3f".repeat(32)}`);
    expect(await valueOf(img.digest)).toBe(`sha256:${"3f".repeat(32)}`);
    expect(await valueOf(img.imageName)).toBe("localhost:5001/team/app:dev");
    await pulumi.runtime.awaitStackRegistrations();
    expect(registered.map((r) => [r.type, r.name])).toEqual([
      ["kind-dev:index:LocalImage", "app"],
      [IMAGE, "app-image"],
    ]);
    expect(registered[1]?.inputs).toEqual({
      tags: ["localhost:5001/team/app:dev"],
      context: { location: context },
      dockerfile: { location: path.join(context, "build/Other.Dockerfile") },
      buildArgs: { VERSION: "1" },
      target: "runtime",
      platforms: ["linux/amd64"],
      builder: { name: "desktop-linux" },
      exec: true,
      push: true,
      buildOnPreview: false,
      // @pulumi/docker-build's default, sent as an input.
      network: "default",
    });
  });

  it("defaults: tag latest, the context's Dockerfile, no build args, target or platform", async () => {
    providerDigest = `sha256:${"0c".repeat(32)}`;
    const img = new lib.LocalImage("app", {
      repository: "app",
      context,
      registryHost: "localhost:5002",
    });
    expect(await valueOf(img.ref)).toBe(`localhost:5002/app@sha256:${"0c".repeat(32)}`);
    await pulumi.runtime.awaitStackRegistrations();
    // Read once, by the first LocalImage of the program.
    expect(contextBuilder).toHaveBeenCalledTimes(1);
    expect(registered.find((r) => r.type === IMAGE)?.inputs).toEqual({
      tags: ["localhost:5002/app:latest"],
      context: { location: context },
      dockerfile: { location: path.join(context, "Dockerfile") },
      builder: { name: "desktop-linux" },
      exec: true,
      push: true,
      buildOnPreview: false,
      // @pulumi/docker-build's default, sent as an input.
      network: "default",
    });
  });

  const E = "KindDevEnvironment: invalid LocalImage";
  it.each([
    [{ repository: "App" }, `${E} repository "App": must be an image reference`],
    [
      { repository: "app:1" },
      `${E} repository "app:1": must be a repository path such as app or team/api`,
    ],
    [{ repository: "ghcr.io/x/app" }, `${E} repository "ghcr.io/x/app": must not name a registry`],
    [{ tag: "-x" }, `${E} tag "-x": must be 1-128 characters`],
    [{ tag: "a b" }, `${E} tag "a b": must be 1-128 characters`],
    [
      { context: "/nonexistent/ctx" },
      `${E} context "/nonexistent/ctx": must be an existing directory`,
    ],
    [{ dockerfile: "Missing" }, `${E} dockerfile "Missing": must be a file inside the context`],
    [{ platform: "amd64" }, `${E} platform "amd64": must look like linux/amd64`],
    [{ target: "$(x)" }, `${E} target "$(x)": must be a build stage name`],
  ])("rejects %j before registering anything", (bad, message) => {
    expect(
      () =>
        new lib.LocalImage("bad", {
          repository: "app",
          context,
          registryHost: "localhost:5001",
          ...bad,
        }),
    ).toThrow(message);
    expect(registered.filter((r) => r.type === IMAGE)).toEqual([]);
  });
});
