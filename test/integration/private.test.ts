/**
 * Private upstreams on the real engine, caches started exactly as the component starts them
 * (resolveConfig with the host's Docker configuration, registryContainerScript, /bin/sh -c):
 *
 * - an upstream that requires a login (distribution with htpasswd);
 * - the team cache: a cache with `credentialsFromDocker`, its login given by a credential helper
 *   (test/support/credential-helper, the docker-credential-* protocol) that the Docker config's
 *   `credHelpers` names; the laptop cache in front of it (its remoteUrl is the team cache). An
 *   image comes through the chain laptop -> team -> upstream, then, with the team cache stopped,
 *   the laptop cache still serves what it holds and fails what it does not, and serves again
 *   once the team cache is back;
 * - a new password (`docker login` again): the next run replaces the team cache with it;
 * - `useDockerMirror`: a second dockerd, started here with `--registry-mirror` (the shared one
 *   is not touched), runs the network, the mirror and the Docker Hub cache (DOCKER_HOST); the
 *   cache fetches from the mirror `docker info` names, and the doctor says so.
 *
 * No label, no command line and no log line of the caches carries the password.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import { HOST, type HostAccess } from "../../components/hostCredentials";
import { runDoctor } from "../../components/doctor/doctor";
import { networkScript } from "../../components/scripts";
import { type RunResult, runAsync, TOOLS_ENV } from "../support/bed";
import {
  BED_IMAGES,
  bedSuite,
  catalog,
  componentRegistryScript,
  containerInfo,
  describeDocker,
  docker,
  ensureRegistryContainerOk,
  http,
  logsOf,
  MANIFEST_V2,
  mustContainerInfo,
  pushTestImage,
  REPO_DIR,
  runScript,
  runScriptOk,
  waitFor,
  volumeExists,
  waitForHttpOk,
} from "./helpers";

/**
 * The second daemon's address pool, far from Docker's 172.17-31 and 192.168 defaults: one /24,
 * so its one network's gateway is known before the daemon starts.
 */
const SECOND_DAEMON_POOL = "10.213.0.0/24";
const SECOND_DAEMON_GATEWAY = "10.213.0.1";
const SECOND_DAEMON_BRIDGE = "kdev-priv-br0";

function ip(args: readonly string[]): Promise<RunResult> {
  return runAsync("ip", args);
}

/**
 * A second dockerd beside the shared one, which is left as it is: its own data, exec root,
 * pidfile and socket; its default bridge is SECOND_DAEMON_BRIDGE, made here (`--bridge=none`
 * would delete the host's docker0, the shared daemon's default bridge); no iptables
 * (`--iptables=false`: at start a daemon with iptables removes and rebuilds the DOCKER chains
 * the shared daemon's published ports use); user networks from SECOND_DAEMON_POOL. `stop`
 * removes its containers and networks, stops it, and deletes its bridge and directories.
 */
async function startSecondDaemon(
  mirror: string,
): Promise<{ host: string; stop: () => Promise<void> }> {
  await ip(["link", "delete", SECOND_DAEMON_BRIDGE]);
  for (const step of [
    ["link", "add", SECOND_DAEMON_BRIDGE, "type", "bridge"],
    ["addr", "add", "10.213.1.1/24", "dev", SECOND_DAEMON_BRIDGE],
    ["link", "set", SECOND_DAEMON_BRIDGE, "up"],
  ]) {
    const r = await ip(step);
    if (r.code !== 0) {
      throw new Error(`ip ${step.join(" ")} failed: ${r.stderr}`);
    }
  }
  const dir = mkdtempSync("/tmp/kdev-priv-dockerd-");
  const host = `unix://${dir}/docker.sock`;
  const log = openSync(path.join(dir, "dockerd.log"), "w");
  const child = spawn(
    "/usr/sbin/dockerd",
    [
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/dockerd.pid`,
      `--host=${host}`,
      `--bridge=${SECOND_DAEMON_BRIDGE}`,
      "--iptables=false",
      "--ip-masq=false",
      "--ip-forward=false",
      `--default-address-pool=base=${SECOND_DAEMON_POOL},size=24`,
      `--registry-mirror=${mirror}`,
    ],
    { detached: true, stdio: ["ignore", log, log] },
  );
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const onDaemon = (...args: string[]) => runAsync("docker", args, { env: { DOCKER_HOST: host } });
  const stop = async () => {
    const all = (await onDaemon("ps", "-aq")).stdout.split("\n").filter((id) => id !== "");
    if (all.length > 0) {
      await onDaemon("rm", "-f", "-v", ...all);
    }
    // A stopped daemon keeps its networks' bridges on the host: they go first.
    const nets = await onDaemon("network", "ls", "-q", "--filter", "type=custom");
    for (const net of nets.stdout.split("\n").filter((n) => n !== "")) {
      await onDaemon("network", "rm", net);
    }
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await ip(["link", "delete", SECOND_DAEMON_BRIDGE]);
  };
  try {
    await waitFor("the second dockerd answers", 60_000, async () =>
      (await onDaemon("info")).code === 0 ? true : undefined,
    );
  } catch (e) {
    const said = readFileSync(path.join(dir, "dockerd.log"), "utf8")
      .split("\n")
      .slice(-5)
      .join("\n");
    await stop();
    throw new Error(`${String(e)}\n${said}`);
  }
  return { host, stop };
}

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

describeDocker("private upstreams: host credentials, a team cache, the daemon's mirror", () => {
  const suite = bedSuite(7);
  const { id, res, network } = suite;
  const upstream = `kdev-priv-up-${id}`;
  const team = `kdev-priv-team-${id}`;
  const laptop = `kdev-priv-laptop-${id}`;
  const hub = `kdev-priv-hub-${id}`;
  const mirror = `kdev-priv-mirror-${id}`;
  const tokenCache = `kdev-priv-token-${id}`;
  const upstreamHost = `${upstream}:5000`;
  let ports: { upstream: number; team: number; laptop: number };
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
    const p = (i: number) => suite.port(i);
    ports = { upstream: p(0), team: p(1), laptop: p(2) };
    dir = res.tempDir();
    mkdirSync(path.join(dir, "auth"));
    mkdirSync(path.join(dir, "docker"));
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

    // The upstream: pushed to while open, then started again on the same volume with htpasswd.
    const volume = res.volume(`${upstream}-data`);
    const run = async (extra: string[]) => {
      await docker(["rm", "-f", upstream]).catch(() => "");
      await res.run(
        upstream,
        id,
        { network },
        ...["--publish", `127.0.0.1:${ports.upstream}:5000`],
        ...["--volume", `${volume}:/var/lib/registry`, ...extra, BED_IMAGES.registry],
      );
      await waitFor("the upstream answers", 60_000, async () =>
        [200, 401].includes((await http(`http://127.0.0.1:${ports.upstream}/v2/`)).status),
      );
    };
    await run([]);
    for (const repo of ["acme/app", "acme/other", "acme/third", "library/hubimg"]) {
      await pushTestImage(res.image(`localhost:${ports.upstream}/${repo}:1`));
    }
    htpasswd(passwords[0] ?? "");
    login(passwords[0] ?? "");
    await run([
      ...["--volume", `${path.join(dir, "auth")}:/auth:ro`, "--env", "REGISTRY_AUTH=htpasswd"],
      ...["--env", "REGISTRY_AUTH_HTPASSWD_REALM=kdev-priv"],
      ...["--env", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd"],
    ]);
  });

  afterAll(() => {
    delete process.env["KDEV_CRED_FILE"];
  });

  it("laptop cache -> team cache (login from the credential helper) -> upstream", async () => {
    // The upstream asks for a password. (A cache without the login: test/e2e/private.test.ts.)
    const r = await fetch(`http://127.0.0.1:${ports.upstream}/v2/acme/app/manifests/1`);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Basic realm="kdev-priv"');
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
    expect(await logsOf(team)).not.toContain(passwords[0]);
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

  it("credentialHelper: the cache asks the helper again and pulls after its token expired", async () => {
    // docker-credential-kdev-token answers "<seed>-<window>", a new token every PERIOD seconds.
    const PERIOD = 30;
    const seed = `tok${id}`;
    const bin = path.join(dir, "token-bin");
    mkdirSync(bin);
    const build = await runAsync(
      "go",
      [
        "build",
        "-C",
        path.join(REPO_DIR, "test/support/token-helper"),
        "-trimpath",
        "-ldflags",
        `-X main.seed=${seed} -X main.period=${PERIOD}`,
        "-o",
        path.join(bin, "docker-credential-kdev-token"),
        ".",
      ],
      {
        env: {
          CGO_ENABLED: "0",
          GOFLAGS: "-mod=mod",
          GOCACHE: process.env["GOCACHE"] ?? path.join(os.homedir(), ".cache", "go-build"),
        },
      },
    );
    expect(build.code, build.stderr).toBe(0);
    const window = () => Math.floor(Date.now() / 1000 / PERIOD);
    const nextWindow = async () => {
      const w = window();
      await new Promise((r) => setTimeout(r, ((w + 1) * PERIOD + 0.5) * 1000 - Date.now()));
      return w + 1;
    };
    const upstreamAnswers = async (token: string) =>
      (
        await fetch(`http://127.0.0.1:${ports.upstream}/v2/`, {
          headers: { Authorization: `Basic ${Buffer.from(`ci:${token}`).toString("base64")}` },
        })
      ).status;

    const [port, stalePort] = [suite.port(3), suite.port(4)];
    // The cache under test asks again after 1s; a second one keeps its first answer for an hour.
    const [cache, stale] = resolveConfig(
      {
        networkName: network,
        caches: [
          {
            upstreamHost: "ghcr.io",
            remoteUrl: `http://${upstreamHost}`,
            containerName: tokenCache,
            hostPort: port,
            credentialHelper: "kdev-token",
            credentialLifetime: "1s",
          },
          {
            upstreamHost: "quay.io",
            remoteUrl: `http://${upstreamHost}`,
            containerName: `${tokenCache}-stale`,
            hostPort: stalePort,
            credentialHelper: "kdev-token",
            credentialLifetime: "1h",
          },
        ],
      },
      { ...host, env: { ...host.env, PATH: `${bin}:${host.env["PATH"] ?? ""}` } },
    ).caches;
    expect(cache?.spec.env).toMatchObject({
      REGISTRY_PROXY_EXEC_COMMAND: "/kind-dev/credential-helper",
      REGISTRY_PROXY_EXEC_LIFETIME: "1s",
    });
    // Room to start the cache and pull within one window.
    const w0 = window() * PERIOD + PERIOD - Date.now() / 1000 < 20 ? await nextWindow() : window();
    htpasswd(`${seed}-${w0}`);
    await ensureCache(cache!);
    await ensureCache(stale!);
    await waitForHttpOk(`http://127.0.0.1:${port}/v2/`);
    await waitForHttpOk(`http://127.0.0.1:${stalePort}/v2/`);
    expect(await pull(port, "acme/app")).toBe(200);
    expect(await pull(stalePort, "acme/app")).toBe(200);
    const before = await mustContainerInfo(tokenCache);

    // The next window: the upstream takes the new token only.
    const w1 = await nextWindow();
    htpasswd(`${seed}-${w1}`);
    await waitFor("the upstream takes the new token", 10_000, async () =>
      (await upstreamAnswers(`${seed}-${w1}`)) === 200 ? true : undefined,
    );
    expect(await upstreamAnswers(`${seed}-${w0}`)).toBe(401);
    expect(await pull(port, "acme/other")).toBe(200);
    // The expired token: distribution answers "manifest unknown" when its upstream refuses it.
    expect(await pull(stalePort, "acme/other")).toBe(404);
    const after = await mustContainerInfo(tokenCache);
    expect([after.id, after.startedAt, after.restartCount]).toEqual([
      before.id,
      before.startedAt,
      0,
    ]);
    expect(after.env.filter((e) => e.startsWith("REGISTRY_PROXY_PASSWORD"))).toEqual([]);
  });

  it("credentialHelper on registry:2, which ignores it: the step fails saying so, and removes the cache", async () => {
    const name = `${tokenCache}-v2`;
    const volume = `${name}-data`;
    const [cache] = resolveConfig(
      {
        networkName: network,
        registryImage: BED_IMAGES.registry2,
        caches: [{ upstreamHost: "ghcr.io", containerName: name, credentialHelper: "kdev-test" }],
      },
      host,
    ).caches;
    res.container(name);
    res.volume(volume);
    const script = await componentRegistryScript(cache!.spec);
    const refused = (first: string) => [
      1,
      `pulumi-kind-dev: ${first}\npulumi-kind-dev: the cache ${name} cannot use credentialHelper: its image registry:2 runs distribution 2, which ignores a credential helper and would pull without a login; the container was removed. Set registryImage to a distribution v3 image (registry:3, the default) or drop credentialHelper, then run pulumi up again.\n`,
    ];
    const r = await runScript(script);
    expect([r.code, r.stderr]).toEqual(
      refused(`started the cache container ${name}; data on volume ${volume}`),
    );
    expect([await containerInfo(name), await volumeExists(volume)]).toEqual([undefined, false]);

    // Kept from before the check (1.0.0 had none): the same fingerprint, made without it.
    await runScriptOk({ ...script, environment: { ...script.environment, HELPER: "" } });
    expect((await mustContainerInfo(name)).running).toBe(true);
    const kept = await runScript(await componentRegistryScript(cache!.spec));
    expect([kept.code, kept.stderr]).toEqual(
      refused(`using the existing cache container ${name}; data on volume ${volume}`),
    );
    expect([await containerInfo(name), await volumeExists(volume)]).toEqual([undefined, true]);
  });

  it("useDockerMirror on a second Docker daemon started with --registry-mirror", async () => {
    const [mirrorPort, hubPort] = [suite.port(5), suite.port(6)];
    // The second daemon's one network gets the whole pool: its gateway is the host side
    // of the bridge, where the mirror is published; a cache reaches it through the host's INPUT
    // path, so the host's FORWARD rules (the shared daemon's) need no change.
    const mirrorUrl = `http://${SECOND_DAEMON_GATEWAY}:${mirrorPort}`;
    const docker0 = (await ip(["-o", "link", "show", "docker0"])).stdout.split(":")[0];
    const daemon = await startSecondDaemon(mirrorUrl);
    const saved = {
      process: process.env["DOCKER_HOST"],
      tools: TOOLS_ENV["DOCKER_HOST"],
      path: process.env["PATH"],
    };
    try {
      for (const image of [BED_IMAGES.registry, BED_IMAGES.testImage]) {
        await runAsync("sh", [
          "-c",
          'docker save "$1" | DOCKER_HOST="$2" docker load',
          "-",
          image,
          daemon.host,
        ]).then((r) => expect(r.code, r.stderr).toBe(0));
      }
      process.env["DOCKER_HOST"] = daemon.host;
      TOOLS_ENV["DOCKER_HOST"] = daemon.host;
      expect(
        JSON.parse(await docker(["info", "--format", "{{json .RegistryConfig.Mirrors}}"])),
      ).toEqual([`${mirrorUrl}/`]);
      await runScriptOk(networkScript(network, true));
      const inspect = await docker([
        "network",
        "inspect",
        "--format",
        "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
        network,
      ]);
      expect(inspect.trim()).toBe(SECOND_DAEMON_GATEWAY);
      // The company mirror: holds library/hubimg, published on the bridge's gateway and loopback.
      await res.run(
        mirror,
        id,
        { network },
        ...["--publish", `${SECOND_DAEMON_GATEWAY}:${mirrorPort}:5000`],
        ...["--publish", `127.0.0.1:${mirrorPort}:5000`, BED_IMAGES.registry],
      );
      await waitForHttpOk(`http://127.0.0.1:${mirrorPort}/v2/`);
      await pushTestImage(`localhost:${mirrorPort}/library/hubimg:1`);

      const config = resolveConfig({
        networkName: network,
        caches: [
          {
            upstreamHost: "docker.io",
            useDockerMirror: true,
            containerName: hub,
            hostPort: hubPort,
          },
        ],
      });
      const [cache] = config.caches;
      expect(cache?.remoteUrl).toBe(mirrorUrl);
      await ensureRegistryContainerOk(cache!.spec);
      await waitForHttpOk(`http://127.0.0.1:${hubPort}/v2/`);
      expect(await pull(hubPort, "library/hubimg")).toBe(200);
      expect(await catalog(hubPort)).toEqual(["library/hubimg"]);

      // The doctor looks at the caches on a kind cluster's network: a container labelled as kind
      // labels a node stands in for the cluster (kind finds its nodes by these labels).
      const cluster = `kdev-priv-${id}`;
      const labels = { "io.x-k8s.kind.cluster": cluster, "io.x-k8s.kind.role": "control-plane" };
      await res.run(`${cluster}-control-plane`, id, { network, labels }, BED_IMAGES.registry);
      // The doctor runs in this process: it finds kind (and kubectl) on the bed's PATH.
      process.env["PATH"] = TOOLS_ENV["PATH"];
      const report = await runDoctor({ cluster });
      const line = report.results.find((r) => r.id === `cache.running@${hub}`);
      // On a failure, the whole report says what the doctor chose instead.
      expect(line?.status, JSON.stringify(report.results)).toBe("pass");
      expect(line?.detail).toContain(`caches docker.io from ${mirrorUrl}`);
    } finally {
      process.env["PATH"] = saved.path;
      process.env["DOCKER_HOST"] = saved.process;
      TOOLS_ENV["DOCKER_HOST"] = saved.tools;
      if (saved.process === undefined) {
        delete process.env["DOCKER_HOST"];
      }
      if (saved.tools === undefined) {
        delete TOOLS_ENV["DOCKER_HOST"];
      }
      await daemon.stop();
    }
    // The shared daemon's default bridge is the one it had.
    expect((await ip(["-o", "link", "show", "docker0"])).stdout.split(":")[0]).toBe(docker0);
  });
});
