import {
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import {
  DOCKER_HUB_KEY,
  dockerLogin,
  dockerMirrors,
  HOST,
  type HostAccess,
} from "../../components/hostCredentials";

const HELPER_DIR = path.resolve(__dirname, "../support/credential-helper");
const tmp = mkdtempSync(path.join(os.tmpdir(), "kdev-priv-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A host whose Docker config is `config` and whose programs are `programs` (by file name). */
function fakeHost(
  config: unknown,
  programs: Record<string, (args: readonly string[], input?: string) => string> = {},
  pathDirs = "/helpers",
): HostAccess & { calls: { program: string; args: readonly string[]; input?: string }[] } {
  const calls: { program: string; args: readonly string[]; input?: string }[] = [];
  return {
    calls,
    env: { HOME: "/home/dev", PATH: pathDirs },
    readFile: (file) =>
      file === "/home/dev/.docker/config.json" && config !== undefined
        ? JSON.stringify(config)
        : undefined,
    run: (program, args, input) => {
      calls.push({ program, args, ...(input === undefined ? {} : { input }) });
      const run = programs[path.basename(program)];
      const stdout = run?.(args, input) ?? "";
      return { code: run ? 0 : -1, stdout, stderr: "", missing: !run, timedOut: false };
    },
  };
}

const field = "caches[0].credentialsFromDocker";

describe("dockerLogin: the host's Docker configuration", () => {
  it("reads auths[host].auth (base64 of user:password; the password may hold ':')", () => {
    const host = fakeHost({ auths: { "ghcr.io": { auth: b64("alice:s3:cret") } } });
    expect(dockerLogin(field, "ghcr.io", host)).toEqual({ username: "alice", password: "s3:cret" });
  });

  it("matches an auths key written as a URL, and Docker Hub's key for registry-1.docker.io", () => {
    const host = fakeHost({
      auths: {
        "https://registry.example.com:5000/v2/": { auth: b64("bob:pw1") },
        [DOCKER_HUB_KEY]: { auth: b64("hubuser:pw2") },
      },
    });
    const login = (server: string) => dockerLogin(field, server, host);
    expect(login("registry.example.com:5000")).toEqual({ username: "bob", password: "pw1" });
    expect(login("registry-1.docker.io")).toEqual({ username: "hubuser", password: "pw2" });
  });

  it("asks credHelpers[host] before credsStore, with `get` and the server on stdin", () => {
    const answer = (user: string) => () =>
      JSON.stringify({ ServerURL: "x", Username: user, Secret: "tok" });
    const dir = mkdtempSync(path.join(tmp, "bin-"));
    for (const name of ["docker-credential-gh", "docker-credential-desktop"]) {
      writeFileSync(path.join(dir, name), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    }
    const host = fakeHost(
      { credsStore: "desktop", credHelpers: { "ghcr.io": "gh" }, auths: { "ghcr.io": {} } },
      { "docker-credential-gh": answer("from-gh"), "docker-credential-desktop": answer("desk") },
      `/nonexistent:${dir}`,
    );
    expect(dockerLogin(field, "ghcr.io", host)).toEqual({ username: "from-gh", password: "tok" });
    expect(dockerLogin(field, "quay.io", host)).toEqual({ username: "desk", password: "tok" });
    expect(host.calls).toEqual([
      { program: path.join(dir, "docker-credential-gh"), args: ["get"], input: "ghcr.io" },
      { program: path.join(dir, "docker-credential-desktop"), args: ["get"], input: "quay.io" },
    ]);
  });

  it.each([
    [
      "no config file",
      undefined,
      "/home/dev/.docker/config.json has no login for ghcr.io; run 'docker login ghcr.io' on this machine",
    ],
    [
      "no entry for the host",
      { auths: { "quay.io": { auth: b64("a:b") } } },
      "/home/dev/.docker/config.json has no login for ghcr.io; run 'docker login ghcr.io' on this machine",
    ],
    [
      "a helper that is not on PATH",
      { credsStore: "desktop" },
      "/home/dev/.docker/config.json keeps the login for ghcr.io in the credential helper docker-credential-desktop (credsStore), which is not on PATH; install it or put its directory on PATH",
    ],
    [
      "a helper name that is not a program name",
      { credHelpers: { "ghcr.io": "../evil" } },
      '/home/dev/.docker/config.json names the credential helper "../evil" (credHelpers["ghcr.io"]), which is not a program name',
    ],
    [
      "an identity token",
      { auths: { "ghcr.io": { auth: b64("<token>:abc") } } },
      "the Docker login for ghcr.io is an identity token, which a pull-through cache cannot use (it logs in with a user name and password or access token); set the cache's username and password instead",
    ],
  ])("%s: a KindDevArgumentError naming the field", (_name, config, why) => {
    expect(() => dockerLogin(field, "ghcr.io", fakeHost(config))).toThrow(
      `KindDevEnvironment: invalid ${field} true: ${why}`,
    );
  });

  it("says Docker Hub's login command without a host", () => {
    expect(() => dockerLogin(field, "registry-1.docker.io", fakeHost({}))).toThrow(
      "has no login for registry-1.docker.io; run 'docker login' on this machine",
    );
  });

  it("a real helper on PATH: its answer as it is, `get` its only argument; its refusal in one line", () => {
    const store = path.join(tmp, "store.json");
    const log = path.join(tmp, "helper.log");
    const access: HostAccess = {
      ...HOST,
      env: { HOME: tmp, PATH: `${HELPER_DIR}:${process.env["PATH"] ?? ""}` },
      readFile: () => JSON.stringify({ credHelpers: { "ghcr.io": "kdev-test" } }),
    };
    const [username, password] = ['al "ice"\n', "s3:cr\u00e9t $(id) \\"];
    writeFileSync(store, JSON.stringify({ "ghcr.io": { Username: username, Secret: password } }));
    process.env["KDEV_CRED_FILE"] = store;
    process.env["KDEV_CRED_LOG"] = log;
    try {
      expect(dockerLogin(field, "ghcr.io", access)).toEqual({ username, password });
      expect(JSON.parse(readFileSync(log, "utf8"))).toEqual({ args: ["get"], stdin: "ghcr.io" });
      writeFileSync(store, "{}");
      expect(() => dockerLogin(field, "ghcr.io", access)).toThrow(
        `KindDevEnvironment: invalid ${field} true: docker-credential-kdev-test get found no login for ghcr.io (credentials not found in native keychain); run 'docker login ghcr.io' on this machine`,
      );
    } finally {
      delete process.env["KDEV_CRED_FILE"];
      delete process.env["KDEV_CRED_LOG"];
    }
  });

  it("auths: any user (no ':') and password round-trip", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.includes(":") && s !== "<token>"),
        fc.string({ minLength: 1 }),
        (username, password) => {
          const host = fakeHost({ auths: { "ghcr.io": { auth: b64(`${username}:${password}`) } } });
          expect(dockerLogin(field, "ghcr.io", host)).toEqual({ username, password });
        },
      ),
    );
  });
});

describe("dockerMirrors and useDockerMirror", () => {
  const info = (mirrors: unknown) => fakeHost({}, { docker: () => `${JSON.stringify(mirrors)}\n` });

  it("reads the daemon's registry-mirrors with docker info", () => {
    const host = info(["https://mirror.corp.example/", "https://second.example/"]);
    expect(dockerMirrors("f", host)).toEqual([
      "https://mirror.corp.example/",
      "https://second.example/",
    ]);
    expect(host.calls).toEqual([
      { program: "docker", args: ["info", "--format", "{{json .RegistryConfig.Mirrors}}"] },
    ]);
    expect(dockerMirrors("f", info(null))).toEqual([]);
  });

  it.each([
    [
      "a mirror that does not parse",
      info(["https://mirror.corp.example/dockerhub/"]),
      { upstreamHost: "docker.io", useDockerMirror: true },
      `KindDevEnvironment: invalid caches[0].useDockerMirror (the Docker daemon's registry-mirrors) "https://mirror.corp.example/dockerhub": must be an http:// or https:// URL with a host and optional port only, such as https://registry-1.docker.io (no path, query, fragment or user:password@)`,
    ],
    [
      "no mirror",
      info([]),
      { upstreamHost: "docker.io", useDockerMirror: true },
      "KindDevEnvironment: invalid caches[0].useDockerMirror true: the Docker daemon has no registry-mirrors ('docker info' lists none); add one to its daemon.json or drop useDockerMirror",
    ],
    [
      "another upstream",
      info([]),
      { upstreamHost: "ghcr.io", useDockerMirror: true },
      "KindDevEnvironment: invalid caches[0].useDockerMirror true: is for the docker.io cache without a remoteUrl: Docker's registry-mirrors mirror Docker Hub only",
    ],
    [
      "a daemon that does not answer",
      fakeHost({}, {}),
      { upstreamHost: "docker.io", useDockerMirror: true },
      "KindDevEnvironment: invalid caches[0].useDockerMirror true: needs the Docker daemon's registry-mirrors, but 'docker info' failed; start Docker and retry",
    ],
    [
      "credentialsFromDocker with a password",
      info([]),
      { upstreamHost: "ghcr.io", credentialsFromDocker: true, password: "x" },
      "KindDevEnvironment: invalid caches[0].credentialsFromDocker true: cannot be combined with username or password: the login comes from one place",
    ],
    [
      "credentialsFromDocker not a boolean",
      info([]),
      { upstreamHost: "ghcr.io", credentialsFromDocker: "yes" },
      'KindDevEnvironment: invalid caches[0].credentialsFromDocker "yes": must be true or false',
    ],
  ])("%s: refused before anything is made", (_name, host, cache, message) => {
    expect(() => resolveConfig({ caches: [cache as never] }, host)).toThrow(message);
  });

  it("credentialsFromDocker logs in to the URL the cache fetches from, the mirror included", () => {
    const host = fakeHost({
      auths: {
        "mirror.corp.example": { auth: b64("m:pw") },
        "team.example:5000": { auth: b64("t:pw2") },
      },
    });
    const withMirror = fakeHost(
      { auths: { "mirror.corp.example": { auth: b64("m:pw") } } },
      { docker: () => '["https://mirror.corp.example"]' },
    );
    const login = (cache: object, on: HostAccess) => {
      const [c] = resolveConfig(
        { caches: [{ credentialsFromDocker: true, ...cache } as never] },
        on,
      ).caches;
      return [c?.username, c?.password];
    };
    expect(login({ upstreamHost: "docker.io", useDockerMirror: true }, withMirror)).toEqual([
      "m",
      "pw",
    ]);
    const team = { upstreamHost: "ghcr.io", remoteUrl: "http://team.example:5000" };
    expect(login(team, host)).toEqual(["t", "pw2"]);
  });
});

describe("credentialHelper: the cache runs the helper itself", () => {
  const hostWith = (dirs: string) => fakeHost({}, {}, dirs);

  it("mounts the helper found on PATH (symlinks followed) and names it in REGISTRY_PROXY_EXEC_*", async () => {
    const { registryContainerEnvironment } = await import("../../components/scripts");
    const { describeSettings, specHash } = await import("../../components/render/containerSpecs");
    const dir = mkdtempSync(path.join(tmp, "helper-"));
    writeFileSync(path.join(dir, "ecr-login-1.0"), "", { mode: 0o755 });
    symlinkSync("ecr-login-1.0", path.join(dir, "docker-credential-ecr-login"));
    const resolve = (lifetime?: string) =>
      resolveConfig(
        {
          caches: [
            {
              upstreamHost: "123.dkr.ecr.eu-west-1.amazonaws.com",
              credentialHelper: "ecr-login",
              ...(lifetime === undefined ? {} : { credentialLifetime: lifetime }),
            },
          ],
        },
        hostWith(`/nowhere:${dir}`),
      ).caches[0]!;
    const cache = resolve();
    const file = path.join(realpathSync(dir), "ecr-login-1.0");
    expect(cache.spec.helper).toBe(file);
    expect(cache.spec.env).toEqual({
      REGISTRY_PROXY_EXEC_COMMAND: "/kind-dev/credential-helper",
      REGISTRY_PROXY_EXEC_LIFETIME: "5m",
      REGISTRY_PROXY_REMOTEURL: "https://123.dkr.ecr.eu-west-1.amazonaws.com",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(
      registryContainerEnvironment({
        spec: cache.spec,
        secretEnv: {},
        state: "absent",
        removeOnDelete: false,
      })["HELPER"],
    ).toBe(`type=bind,source=${file},target=/kind-dev/credential-helper,readonly`);
    expect(describeSettings(cache.spec)).toBe(
      `image=registry:3 network=kind volume=kind-cache-123-dkr-ecr-eu-west-1-amazonaws-com-data publish=none upstream=123.dkr.ecr.eu-west-1.amazonaws.com env.REGISTRY_PROXY_EXEC_COMMAND=/kind-dev/credential-helper env.REGISTRY_PROXY_EXEC_LIFETIME=5m env.REGISTRY_PROXY_REMOTEURL=https://123.dkr.ecr.eu-west-1.amazonaws.com env.REGISTRY_STORAGE_DELETE_ENABLED=true helper=${file}`,
    );
    // Another helper file or lifetime is another container.
    const withoutHelper = { ...cache.spec, helper: undefined };
    expect(specHash({ ...cache.spec, helper: "/other" })).not.toBe(specHash(cache.spec));
    expect(specHash(withoutHelper)).not.toBe(specHash(cache.spec));
    expect(specHash(resolve("30s").spec)).not.toBe(specHash(cache.spec));
    expect(resolve("30s").spec.env["REGISTRY_PROXY_EXEC_LIFETIME"]).toBe("30s");
  });

  it.each([
    [
      "a helper not on PATH",
      { credentialHelper: "ecr-login" },
      'KindDevEnvironment: invalid caches[0].credentialHelper "ecr-login": needs docker-credential-ecr-login on PATH; install it or put its directory on PATH',
    ],
    [
      "a name that is not a program name",
      { credentialHelper: "../x" },
      'KindDevEnvironment: invalid caches[0].credentialHelper "../x": must be a helper name such as ecr-login (the program docker-credential-ecr-login)',
    ],
    [
      "with a password",
      { credentialHelper: "ecr-login", password: "x" },
      'KindDevEnvironment: invalid caches[0].credentialHelper "ecr-login": cannot be combined with credentialsFromDocker, username or password: the login comes from one place',
    ],
    [
      "a lifetime without a helper",
      { credentialLifetime: "5m" },
      'KindDevEnvironment: invalid caches[0].credentialLifetime "5m": needs credentialHelper',
    ],
    [
      "a lifetime that is not a Go duration",
      { credentialHelper: "x", credentialLifetime: "1 day" },
      'KindDevEnvironment: invalid caches[0].credentialLifetime "1 day"',
    ],
  ])("%s: refused before anything is made", (_name, extra, message) => {
    // On PATH: docker-credential-x only.
    const dir = mkdtempSync(path.join(tmp, "helper-"));
    writeFileSync(path.join(dir, "docker-credential-x"), "", { mode: 0o755 });
    expect(() =>
      resolveConfig({ caches: [{ upstreamHost: "ghcr.io", ...extra }] }, hostWith(dir)),
    ).toThrow(message);
  });
});
