import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_DIGEST, promiseOf, registrations, reset, settle } from "./mocks";

type Lib = typeof import("../../components");
let lib: Lib;
let context: string;

beforeAll(async () => {
  lib = await import("../../components");
  context = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-ctx-"));
  fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
  fs.writeFileSync(path.join(context, "Other.Dockerfile"), "FROM scratch\n");
});

afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

describe("LocalImage under mocks", () => {
  it("builds from the context and pushes to the registry host, exposing a digest-pinned ref", async () => {
    reset();
    const img = new lib.LocalImage("app", {
      repository: "team/app",
      tag: "dev",
      context,
      registryHost: pulumi.output("localhost:5001"),
      buildArgs: { VERSION: "1" },
      target: "runtime",
      platform: "linux/amd64",
    });
    expect(await promiseOf(img.ref)).toBe(`localhost:5001/team/app@${FAKE_DIGEST}`);
    expect(await promiseOf(img.digest)).toBe(FAKE_DIGEST);
    expect(await promiseOf(img.imageName)).toBe("localhost:5001/team/app:dev");
    await settle();
    const image = registrations.filter((r) => r.type === "docker:index/image:Image");
    expect(image.map((r) => r.name)).toEqual(["app-image"]);
    expect(image[0]!.inputs).toEqual({
      imageName: "localhost:5001/team/app:dev",
      build: {
        context,
        dockerfile: path.join(context, "Dockerfile"),
        args: { VERSION: "1" },
        target: "runtime",
        platform: "linux/amd64",
      },
      registry: { server: "localhost:5001" },
      // SDK defaults: build at up, not at preview, and push.
      buildOnPreview: false,
      skipPush: false,
    });
    expect(registrations.map((r) => r.type).sort()).toEqual([
      "docker:index/image:Image",
      "kind-dev:index:LocalImage",
    ]);
  });

  it("defaults the tag to latest and the Dockerfile to the context's", async () => {
    reset();
    const img = new lib.LocalImage("app", {
      repository: "app",
      context,
      registryHost: "localhost:5001",
    });
    expect(await promiseOf(img.imageName)).toBe("localhost:5001/app:latest");
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
  ])("rejects %j", (bad, message) => {
    expect(
      () =>
        new lib.LocalImage("bad", {
          repository: "app",
          context,
          registryHost: "localhost:5001",
          ...bad,
        }),
    ).toThrow(message);
  });
});
