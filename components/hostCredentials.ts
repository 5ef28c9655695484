/**
 * What the host's Docker already knows, read at every program run (so `pulumi up` refreshes it):
 * a registry login from the Docker configuration (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`) the way the docker CLI finds it: `credHelpers[host]`, else
 * `credsStore`, else `auths[host].auth`; a helper is `docker-credential-<name>` on PATH, asked
 * with `get` and the server on stdin (the docker-credential-helpers protocol), never a shell and
 * never a secret in its arguments. And the daemon's `registry-mirrors` (`docker info`).
 */
import { accessSync, constants, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execCommandSync, type ExecResult, lastLine } from "./exec";
import { KindDevArgumentError } from "./validate";

export interface Login {
  readonly username: string;
  readonly password: string;
}

/** The outside world, replaceable in tests. */
export interface HostAccess {
  readonly env: NodeJS.ProcessEnv;
  /** The file's text, or undefined when it does not exist. */
  readonly readFile: (file: string) => string | undefined;
  /** Runs a program (no shell) with `input` on stdin, to its end. */
  readonly run: (program: string, args: readonly string[], input?: string) => ExecResult;
}

export const HOST: HostAccess = {
  env: process.env,
  readFile: (file) => {
    try {
      return readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        return undefined;
      }
      throw e;
    }
  },
  run: (program, args, input) => execCommandSync(program, args, { input, timeoutMs: 30_000 }),
};

/** Where Docker Hub logins are kept: the key `docker login` writes for it. */
export const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_HOSTS = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** `https://ghcr.io/v2/` -> `ghcr.io`, as the docker CLI matches `auths` keys. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? "";
}

export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  const dir = env["DOCKER_CONFIG"] || path.join(env["HOME"] || os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `docker-credential-<name>` on PATH, or undefined. */
export function onPath(env: NodeJS.ProcessEnv, program: string): string | undefined {
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    const file = path.join(dir || ".", program);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The login for the registry `host` (the host of the URL the cache fetches from). Throws
 * KindDevArgumentError, naming `field`, when the configuration has none or its helper cannot
 * give it: before any resource exists.
 */
export function dockerLogin(field: string, host: string, access: HostAccess = HOST): Login {
  const file = dockerConfigFile(access.env);
  const hub = DOCKER_HUB_HOSTS.includes(host);
  const login = `docker login${hub ? "" : ` ${host}`}`;
  const fail = (why: string): never => {
    throw new KindDevArgumentError(field, true, `${why}; run '${login}' on this machine`);
  };
  const text = access.readFile(file);
  let config: DockerConfig = {};
  if (text !== undefined) {
    try {
      config = JSON.parse(text) as DockerConfig;
    } catch {
      throw new KindDevArgumentError(field, true, `${file} is not valid JSON`);
    }
  }
  const server = hub ? DOCKER_HUB_KEY : host;
  const matches = (key: string) =>
    hub ? DOCKER_HUB_HOSTS.includes(keyHost(key)) : keyHost(key) === host;
  const helperKey = Object.keys(config.credHelpers ?? {}).find(matches);
  const helper = helperKey === undefined ? config.credsStore : config.credHelpers?.[helperKey];
  if (helper !== undefined && helper !== "") {
    const where = helperKey === undefined ? "credsStore" : `credHelpers["${helperKey}"]`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
      throw new KindDevArgumentError(
        field,
        true,
        `${file} names the credential helper ${JSON.stringify(helper)} (${where}), which is not a program name`,
      );
    }
    const program = `docker-credential-${helper}`;
    const found = onPath(access.env, program);
    if (found === undefined) {
      throw new KindDevArgumentError(
        field,
        true,
        `${file} keeps the login for ${host} in the credential helper ${program} (${where}), which is not on PATH; install it or put its directory on PATH`,
      );
    }
    const r = access.run(found, ["get"], helperKey ?? server);
    if (r.code !== 0) {
      // The protocol's error text is on stdout ("credentials not found in native keychain").
      const said = `${r.stdout} ${r.stderr}`.trim() || lastLine(r);
      return fail(`${program} get found no login for ${host} (${said.split("\n")[0]})`);
    }
    let answer: { Username?: unknown; Secret?: unknown };
    try {
      answer = JSON.parse(r.stdout) as typeof answer;
    } catch {
      return fail(`${program} get did not answer JSON for ${host}`);
    }
    const username = typeof answer.Username === "string" ? answer.Username : "";
    const password = typeof answer.Secret === "string" ? answer.Secret : "";
    return usable(field, host, username, password, fail);
  }
  const authKey = Object.keys(config.auths ?? {}).find(matches);
  const entry = authKey === undefined ? undefined : config.auths?.[authKey];
  if (entry?.auth === undefined || entry.auth === "") {
    return fail(`${file} has no login for ${host}`);
  }
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    return fail(`${file} has an auths entry for ${host} that is not base64 of user:password`);
  }
  return usable(field, host, decoded.slice(0, colon), decoded.slice(colon + 1), fail);
}

function usable(
  field: string,
  host: string,
  username: string,
  password: string,
  fail: (why: string) => never,
): Login {
  if (username === "<token>") {
    throw new KindDevArgumentError(
      field,
      true,
      `the Docker login for ${host} is an identity token, which a pull-through cache cannot use (it logs in with a user name and password or access token); set the cache's username and password instead`,
    );
  }
  if (username === "" || password === "") {
    return fail(`the Docker login for ${host} has no user name or no secret`);
  }
  return { username, password };
}

/**
 * The Docker daemon's `registry-mirrors`, in its order (`docker info`). Throws naming `field`
 * when the daemon does not answer.
 */
export function dockerMirrors(field: string, access: HostAccess = HOST): string[] {
  const r = access.run("docker", ["info", "--format", "{{json .RegistryConfig.Mirrors}}"]);
  if (r.code !== 0) {
    const said = r.stderr.trim().split("\n")[0] ?? "";
    throw new KindDevArgumentError(
      field,
      true,
      `needs the Docker daemon's registry-mirrors, but 'docker info' failed${said === "" ? "" : ` (${said})`}; start Docker and retry`,
    );
  }
  const mirrors: unknown = JSON.parse(r.stdout.trim() || "null");
  return Array.isArray(mirrors) ? mirrors.map(String) : [];
}
