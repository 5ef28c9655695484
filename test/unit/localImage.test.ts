/**
 * LocalImage under mocks. No docker provider plugin builds on the test bed, so nothing here runs
 * a build or a push: these tests pin what LocalImage hands `docker.Image` (every input, exactly)
 * and that its outputs pass on what the provider answers, unchanged. The provider's answer is
 * chosen by each test, so a wrong wiring cannot agree with it by accident.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const IMAGE = "docker:index/image:Image";
/** Every registration: what the component hands each provider. */
const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
/** The `repoDigest` the mocked docker provider answers, set by each test. */
let providerRepoDigest = "";

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return {
        id: `${args.name}-id`,
        state: args.type === IMAGE ? { ...args.inputs, repoDigest: providerRepoDigest } : {},
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
  it("hands docker.Image the build and the push, and passes its repoDigest on as ref", async () => {
    providerRepoDigest = `localhost:5001/team/app@sha256:${"3f".repeat(32)}`;
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
    expect(await valueOf(img.ref)).toBe(providerRepoDigest);
    expect(await valueOf(img.digest)).toBe(`sha256:${"3f".repeat(32)}`);
    expect(await valueOf(img.imageName)).toBe("localhost:5001/team/app:dev");
    await pulumi.runtime.awaitStackRegistrations();
    expect(registered.map((r) => [r.type, r.name])).toEqual([
      ["kind-dev:index:LocalImage", "app"],
      [IMAGE, "app-image"],
    ]);
    expect(registered[1]?.inputs).toEqual({
      imageName: "localhost:5001/team/app:dev",
      build: {
        context,
        dockerfile: path.join(context, "build/Other.Dockerfile"),
        args: { VERSION: "1" },
        target: "runtime",
        platform: "linux/amd64",
      },
      registry: { server: "localhost:5001" },
      // @pulumi/docker's defaults, sent as inputs: build at up, not at preview, and push.
      buildOnPreview: false,
      skipPush: false,
    });
  });

  it("defaults: tag latest, the context's Dockerfile, no build args, target or platform", async () => {
    providerRepoDigest = `localhost:5002/app@sha256:${"0c".repeat(32)}`;
    const img = new lib.LocalImage("app", {
      repository: "app",
      context,
      registryHost: "localhost:5002",
    });
    expect(await valueOf(img.digest)).toBe(`sha256:${"0c".repeat(32)}`);
    await pulumi.runtime.awaitStackRegistrations();
    expect(registered.find((r) => r.type === IMAGE)?.inputs).toEqual({
      imageName: "localhost:5002/app:latest",
      build: { context, dockerfile: path.join(context, "Dockerfile") },
      registry: { server: "localhost:5002" },
      buildOnPreview: false,
      skipPush: false,
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
