/**
 * A local stand-in for the service that hosts this repository: a bare git repository made from
 * the committed tree of HEAD, tagged `v<version>`, under `<root>/<owner>/pulumi-kind-dev.git`,
 * served over HTTPS by `git http-backend` (git's smart HTTP protocol, as a hosting service
 * speaks it) with a certificate made for `localhost`. `pulumi package add` clones git sources
 * only over HTTPS; npm reads the same bare repository through a `git+file://` URL.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { BED_CACHE, pulumiEnv, REPO_DIR, WRAPPER_DIR } from "./bed";
import { OWNER, REPO_NAME } from "./install";

export interface GitHost {
  /** `file://` URL of the bare repository. */
  readonly fileUrl: string;
  /** The host to name in `pulumi package add`: `localhost` (HTTPS on port 443). */
  readonly host: string;
  /** A CA bundle holding the server's certificate, for `SSL_CERT_FILE`. */
  readonly caFile: string;
  readonly tag: string;
  close(): Promise<void>;
}

function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) {
    throw new Error(`git ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout.trim();
}

export interface ReleaseRepo {
  /** The folder served: `<root>/<owner>/pulumi-kind-dev.git` is the bare repository. */
  readonly root: string;
  /** `file://` URL of the bare repository. */
  readonly fileUrl: string;
  /** `v<version>`, the version of HEAD's package.json. */
  readonly tag: string;
}

/**
 * Makes `<dir>/git/<owner>/pulumi-kind-dev.git` from the committed tree of `ref` (HEAD unless
 * given; never the work tree), as one commit on `main` tagged `v<version>`, the version of that
 * tree's package.json.
 */
export function makeReleaseRepo(dir: string, ref = "HEAD"): ReleaseRepo {
  const version = (
    JSON.parse(git(["show", `${ref}:package.json`], REPO_DIR)) as { version: string }
  ).version;
  const tag = `v${version}`;
  const root = path.join(dir, "git");
  const bare = path.join(root, OWNER, `${REPO_NAME}.git`);
  mkdirSync(bare, { recursive: true });
  git(["init", "--quiet", "--bare", "--initial-branch=main", bare], root);
  const who = {
    GIT_AUTHOR_NAME: "release",
    GIT_AUTHOR_EMAIL: "release@localhost",
    GIT_COMMITTER_NAME: "release",
    GIT_COMMITTER_EMAIL: "release@localhost",
  };
  const tree = git(["rev-parse", `${ref}^{tree}`], REPO_DIR);
  git(["fetch", "--quiet", "--no-tags", REPO_DIR, ref], bare);
  const commit = git(["commit-tree", tree, "-m", `pulumi-kind-dev ${tag}`], bare, who);
  git(["update-ref", "refs/heads/main", commit], bare);
  git(["tag", "-a", tag, "-m", tag, commit], bare, who);
  git(["config", "http.receivepack", "false"], bare);
  return { root, fileUrl: `file://${bare}`, tag };
}

/** makeReleaseRepo, served over HTTPS on 127.0.0.1:443 as `localhost`. */
export async function startGitHost(dir: string): Promise<GitHost> {
  const { root, fileUrl, tag } = makeReleaseRepo(dir);
  const key = path.join(dir, "server.key");
  const caFile = path.join(dir, "server.crt");
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      caFile,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) {
    throw new Error(`openssl req failed: ${r.stderr}`);
  }

  const server = https.createServer(
    { key: readFileSync(key), cert: readFileSync(caFile) },
    (req, res) => {
      const url = new URL(req.url ?? "/", "https://localhost");
      const cgi = spawn("git", ["http-backend"], {
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: "1",
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.replace(/^\?/, ""),
          REQUEST_METHOD: req.method ?? "GET",
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          REMOTE_ADDR: "127.0.0.1",
          ...(req.headers["git-protocol"]
            ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) }
            : {}),
          ...(req.headers["content-encoding"]
            ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) }
            : {}),
        },
      });
      req.pipe(cgi.stdin);
      // CGI output: header lines, a blank line, then the body.
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          return;
        }
        headersDone = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === "status") {
            status = Number.parseInt(value, 10);
          } else if (name) {
            res.setHeader(name, value);
          }
        }
        res.writeHead(status);
        res.write(head.subarray(end + 4));
      });
      cgi.stdout.on("end", () => res.end());
      cgi.on("error", () => res.destroy());
    },
  );
  // Port 443, as a hosting service: Pulumi names a git plugin's directory after its URL, and a
  // port there puts a ':' into the path, which breaks the PATH that npm gives the package's
  // scripts (node_modules/.bin).
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new Error(`the local git host cannot listen on 127.0.0.1:443: ${err.message}`)),
    );
    server.listen(443, "127.0.0.1", resolve);
  });
  return {
    fileUrl,
    host: "localhost",
    caFile,
    tag,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A PULUMI_HOME of its own for one consumer project: the bed's resource plugins (command,
 * kubernetes) linked in, and nothing of this package, so what `pulumi package add` or
 * `pulumi install` puts there is theirs alone and the bed's own PULUMI_HOME stays as it was.
 */
export function consumerPulumiHome(dir: string): string {
  const plugins = path.join(dir, "plugins");
  mkdirSync(plugins, { recursive: true });
  const bedPlugins = path.join(BED_CACHE, "pulumi-home", "plugins");
  for (const entry of readdirSync(bedPlugins)) {
    if (/^resource-(command|kubernetes)-v[^.]+\.[^.]+\.[^.]+$/.test(entry)) {
      symlinkSync(path.join(bedPlugins, entry), path.join(plugins, entry));
    }
  }
  return dir;
}

/**
 * The environment of a `pulumi` command in a consumer project: the bed's (file backend,
 * passphrase, tools), its own PULUMI_HOME, the git host's certificate trusted (Go reads
 * SSL_CERT_FILE; the system's directory of certificates is still read), and language hosts
 * found on PATH: a YAML or Python host loads the kind-dev plugin itself, and finds the Node.js
 * host that runs it only there. `cliDir`, when given, comes first on PATH: its `pulumi` and the
 * language hosts next to it are used instead of the bed's.
 */
export function consumerEnv(
  backendDir: string,
  pulumiHome: string,
  host: GitHost,
  cliDir?: string,
): Record<string, string> {
  return {
    ...pulumiEnv(backendDir, `${WRAPPER_DIR}:${cliDir === undefined ? "" : `${cliDir}:`}`),
    PULUMI_HOME: pulumiHome,
    SSL_CERT_FILE: host.caFile,
    PULUMI_IGNORE_AMBIENT_PLUGINS: "false",
  };
}

/** Its folder: `<repo>.git_provider-v<version>`, or `<repo>.git-v<version>` from CLI 3.184.0. */
const PLUGIN_DIR = new RegExp(`^resource-localhost_${OWNER}_${REPO_NAME}\\.git(_provider)?-v`);

/** The folders of this package's plugin installed under a PULUMI_HOME (no lock files). */
export function installedKindDevPlugins(pulumiHome: string): string[] {
  return readdirSync(path.join(pulumiHome, "plugins"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .filter((e) => PLUGIN_DIR.test(e))
    .sort();
}
