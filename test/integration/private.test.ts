/**
 * Private upstreams on the real engine, caches started exactly as the component starts them
 * (resolveConfig with the host's Docker configuration, registryContainerScript, /bin/sh -c):
 *
 * - an upstream that requires a login (distribution with htpasswd), and a cache without one:
 *   it serves nothing of the upstream;
 * - the team cache: a cache with `credentialsFromDocker`, its login given by a credential helper
 *   (test/support/credential-helper, the docker-credential-* protocol) that the Docker config's
 *   `credHelpers` names; the laptop cache in front of it (its remoteUrl is the team cache). An
 *   image comes through the chain laptop -> team -> upstream, then, with the team cache stopped,
 *   the laptop cache still serves what it holds and fails what it does not, and serves again
 *   once the team cache is back;
 * - a new password (`docker login` again): the next run replaces the team cache with it;
 * - `useDockerMirror`: the Docker Hub cache fetches from the mirror `docker info` names. The
 *   shared daemon is not reconfigured: a `docker` first on PATH answers `docker info` with the
 *   mirror and passes everything else to the real CLI.
 *
 * No label, no command line and no log line of the caches carries the password.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import { HOST, type HostAccess } from "../../components/hostCredentials";
import { networkScript } from "../../components/scripts";
import {
  BED_IMAGES,
  describeDocker,
  docker,
  dockerResult,
  ensureRegistryContainerOk,
  freePorts,
  http,
  mustContainerInfo,
  prepareBed,
  REPO_DIR,
  Resources,
  runId,
  runScriptOk,
  TEST_LABEL,
  waitFor,
  waitForHttpOk,
} from "./helpers";

const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
const HELPER_DIR = path.join(REPO_DIR, "test/support/credential-helper");

/** GET repo:tag's manifest and its config blob through 127.0.0.1:port, as a pull starts. */
async function pull(port: number, repo: string, tag = "1"): Promise<number> {
  const base = `http://127.0.0.1:${port}/v2/${repo}`;
  const m = await fetch(`${base}/manifests/${tag}`, {
    headers: { Accept: MANIFEST_V2 },
    signal: AbortSignal.timeout(30_000),
  });
  if (m.status !== 200) {
    return m.status;
  }
  const manifest = (await m.json()) as { config: { digest: string } };
  const blob = await fetch(`${base}/blobs/${manifest.config.digest}`, {
    signal: AbortSignal.timeout(30_000),
  });
  await blob.arrayBuffer();
  return blob.status;
}

async function catalog(port: number): Promise<string[]> {
  const r = await http(`http://127.0.0.1:${port}/v2/_catalog`);
  return (JSON.parse(r.body) as { repositories: string[] }).repositories;
}

describeDocker("private upstreams: host credentials, a team cache, the daemon's mirror", () => {
  const id = runId();
  const res = new Resources();
  const network = `kdev-priv-it-${id}`;
  const upstream = `kdev-priv-up-${id}`;
  const team = `kdev-priv-team-${id}`;
  const laptop = `kdev-priv-laptop-${id}`;
  const anonymous = `kdev-priv-anon-${id}`;
  const hub = `kdev-priv-hub-${id}`;
  const mirror = `kdev-priv-mirror-${id}`;
  const upstreamHost = `${upstream}:5000`;
  let ports: { upstream: number; team: number; laptop: number; anon: number; hub: number };
  let dir: string;
  let host: HostAccess;
  const passwords = ["first-pat-Zq9", "second-pat-Xw7"];

  function htpasswd(password: string): void {
    writeFileSync(path.join(dir, "auth", "htpasswd"), `ci:${bcrypt.hashSync(password, 10)}\n`);
  }

  /** The helper's store, as `docker login` with that helper leaves it. */
  function login(password: string): void {
    writeFileSync(
      path.join(dir, "store.json"),
      JSON.stringify({ [upstreamHost]: { Username: "ci", Secret: password } }),
    );
  }

  function cacheConfig(name: string, port: number, remoteUrl: string, fromDocker: boolean) {
    const [cache] = resolveConfig(
      {
        networkName: network,
        caches: [
          {
            upstreamHost: "ghcr.io",
            remoteUrl,
            containerName: name,
            hostPort: port,
            credentialsFromDocker: fromDocker,
          },
        ],
      },
      host,
    ).caches;
    if (cache === undefined) {
      throw new Error("no cache planned");
    }
    return cache;
  }

  /** What registries.ts gives the ensure script for a cache's credentials. */
  async function ensureCache(cache: ReturnType<typeof cacheConfig>) {
    const secretEnv: Record<string, string> = {};
    if (typeof cache.username === "string") {
      secretEnv["REGISTRY_PROXY_USERNAME"] = cache.username;
    }
    if (typeof cache.password === "string") {
      secretEnv["REGISTRY_PROXY_PASSWORD"] = cache.password;
    }
    res.container(cache.spec.name);
    res.volume(cache.spec.volume);
    return ensureRegistryContainerOk(cache.spec, { secretEnv });
  }

  beforeAll(async () => {
    await prepareBed();
    const [a, b, c, d, e] = await freePorts(5);
    if (a === undefined || b === undefined || c === undefined || d === undefined || !e) {
      throw new Error("no free ports");
    }
    ports = { upstream: a, team: b, laptop: c, anon: d, hub: e };
    dir = res.tempDir();
    mkdirSync(path.join(dir, "auth"));
    mkdirSync(path.join(dir, "docker"));
    mkdirSync(path.join(dir, "bin"));
    writeFileSync(
      path.join(dir, "docker", "config.json"),
      JSON.stringify({ credHelpers: { [upstreamHost]: "kdev-test" } }),
    );
    process.env["KDEV_CRED_FILE"] = path.join(dir, "store.json");
    host = {
      ...HOST,
      env: { ...process.env, DOCKER_CONFIG: path.join(dir, "docker") },
    };
    host.env["PATH"] = `${HELPER_DIR}:${process.env["PATH"] ?? ""}`;
    res.network(network);
    await runScriptOk(networkScript(network, true));

    // The upstream: pushed to while open, then started again on the same volume with htpasswd.
    const volume = res.volume(`${upstream}-data`);
    const run = async (extra: string[]) => {
      res.container(upstream);
      await docker(["rm", "-f", upstream]).catch(() => "");
      await docker([
        "run",
        "-d",
        "--name",
        upstream,
        "--network",
        network,
        "--label",
        `${TEST_LABEL}=${id}`,
        "--publish",
        `127.0.0.1:${ports.upstream}:5000`,
        "--volume",
        `${volume}:/var/lib/registry`,
        ...extra,
        BED_IMAGES.registry,
      ]);
      await waitFor("the upstream answers", 60_000, async () =>
        [200, 401].includes((await http(`http://127.0.0.1:${ports.upstream}/v2/`)).status),
      );
    };
    await run([]);
    for (const repo of ["acme/app", "acme/other", "acme/third", "library/hubimg"]) {
      const ref = res.image(`localhost:${ports.upstream}/${repo}:1`);
      await docker(["tag", BED_IMAGES.testImage, ref]);
      await docker(["push", ref]);
    }
    htpasswd(passwords[0] ?? "");
    login(passwords[0] ?? "");
    await run([
      "--volume",
      `${path.join(dir, "auth")}:/auth:ro`,
      "--env",
      "REGISTRY_AUTH=htpasswd",
      "--env",
      "REGISTRY_AUTH_HTPASSWD_REALM=kdev-priv",
      "--env",
      "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
    ]);
  });

  afterAll(async () => {
    delete process.env["KDEV_CRED_FILE"];
    await res.cleanup();
  });

  it("the upstream asks for a password; a cache without a login serves nothing of it", async () => {
    const r = await fetch(`http://127.0.0.1:${ports.upstream}/v2/acme/app/manifests/1`);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Basic realm="kdev-priv"');
    await ensureCache(cacheConfig(anonymous, ports.anon, `http://${upstreamHost}`, false));
    await waitForHttpOk(`http://127.0.0.1:${ports.anon}/v2/`);
    const status = await pull(ports.anon, "acme/app");
    // distribution answers "manifest unknown" when its upstream refuses it.
    expect(status).toBe(404);
  });

  it("laptop cache -> team cache (login from the credential helper) -> upstream", async () => {
    const teamCache = cacheConfig(team, ports.team, `http://${upstreamHost}`, true);
    expect([teamCache.username, teamCache.password]).toEqual(["ci", passwords[0]]);
    await ensureCache(teamCache);
    await ensureCache(cacheConfig(laptop, ports.laptop, `http://${team}:5000`, false));
    await waitForHttpOk(`http://127.0.0.1:${ports.team}/v2/`);
    await waitForHttpOk(`http://127.0.0.1:${ports.laptop}/v2/`);
    expect(await pull(ports.laptop, "acme/app")).toBe(200);
    expect(await catalog(ports.team)).toEqual(["acme/app"]);
    expect(await catalog(ports.laptop)).toEqual(["acme/app"]);

    // Where the password is and is not.
    const info = await mustContainerInfo(team);
    expect(info.env).toContain(`REGISTRY_PROXY_PASSWORD=${passwords[0]}`);
    const inspect = await docker([
      "container",
      "inspect",
      "--format",
      "{{json .Config.Labels}} {{json .Args}} {{json .Path}}",
      team,
    ]);
    expect(inspect).not.toContain(passwords[0]);
    const logs = await dockerResult(["logs", team]);
    expect(logs.stdout + logs.stderr).not.toContain(passwords[0]);
  });

  it("team cache down: the laptop serves what it holds, fails the rest, and recovers", async () => {
    await docker(["stop", team]);
    expect(await pull(ports.laptop, "acme/app")).toBe(200);
    const missing = await pull(ports.laptop, "acme/other");
    expect(missing).toBe(404);
    await docker(["start", team]);
    await waitForHttpOk(`http://127.0.0.1:${ports.team}/v2/`);
    await waitFor("acme/other through the chain", 60_000, async () =>
      (await pull(ports.laptop, "acme/other")) === 200 ? true : undefined,
    );
  });

  it("a new login replaces the team cache with it on the next run", async () => {
    htpasswd(passwords[1] ?? "");
    login(passwords[1] ?? "");
    const teamCache = cacheConfig(team, ports.team, `http://${upstreamHost}`, true);
    const r = await ensureCache(teamCache);
    expect(r.stderr).toContain(
      `replacing the cache container ${team}: the value of REGISTRY_PROXY_PASSWORD changed; data stays on volume ${team}-data`,
    );
    expect(r.stderr).not.toContain(passwords[1]);
    await waitForHttpOk(`http://127.0.0.1:${ports.team}/v2/`);
    // A repository neither cache holds: fetched with the new password (the old one is refused).
    expect(await pull(ports.team, "acme/third")).toBe(200);
  });

  it("useDockerMirror: the Docker Hub cache fetches from the mirror docker info names", async () => {
    // The mirror: an open registry holding library/hubimg.
    res.container(mirror);
    await docker([
      "run",
      "-d",
      "--name",
      mirror,
      "--network",
      network,
      "--label",
      `${TEST_LABEL}=${id}`,
      "--volume",
      `${upstream}-data:/var/lib/registry:ro`,
      BED_IMAGES.registry,
    ]);
    const wrapper = path.join(dir, "bin", "docker");
    const real = (await import("node:child_process"))
      .execFileSync("sh", ["-c", "command -v docker"], { encoding: "utf8" })
      .trim();
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ "$1" = info ]; then echo '["http://${mirror}:5000/"]'; exit 0; fi\nexec '${real}' "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const savedPath = process.env["PATH"];
    process.env["PATH"] = `${path.join(dir, "bin")}:${savedPath ?? ""}`;
    let config: ReturnType<typeof resolveConfig>;
    try {
      config = resolveConfig({
        networkName: network,
        caches: [
          {
            upstreamHost: "docker.io",
            useDockerMirror: true,
            containerName: hub,
            hostPort: ports.hub,
          },
        ],
      });
    } finally {
      process.env["PATH"] = savedPath;
    }
    const [cache] = config.caches;
    expect(cache?.remoteUrl).toBe(`http://${mirror}:5000`);
    await ensureCache(cache!);
    await waitForHttpOk(`http://127.0.0.1:${ports.hub}/v2/`);
    expect(await pull(ports.hub, "library/hubimg")).toBe(200);
    expect(await catalog(ports.hub)).toEqual(["library/hubimg"]);
    const info = await mustContainerInfo(hub);
    expect(info.env).toContain(`REGISTRY_PROXY_REMOTEURL=http://${mirror}:5000`);
  });
});
