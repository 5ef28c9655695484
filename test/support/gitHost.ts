/**
 * A local stand-in for the service that hosts this repository: a bare git repository made from
 * the committed tree of HEAD, tagged `v<version>`, under `<root>/<owner>/pulumi-kind-dev.git`,
 * served over HTTPS by `git http-backend` (git's smart HTTP protocol, as a hosting service
 * speaks it) with a certificate made for `localhost`. `pulumi package add` clones git sources
 * only over HTTPS; npm reads the same bare repository through a `git+file://` URL. Also the
 * lifecycle the consumer suites (test/consumer) share: a program outside this repository, on
 * the real engine.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { OutputMap, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, expect } from "vitest";
import {
  BED_CACHE,
  bedStack,
  freePort,
  pulumiEnv,
  REPO_DIR,
  requireE2eBed,
  run,
  runAsync,
  tryRun,
  WRAPPER_DIR,
} from "./bed";
import { ALLOW_GIT_COMMAND, commandLine, npmInstallArgs, OWNER, REPO_NAME } from "./install";
import { NODE_IMAGE } from "./lifecycle";

export interface GitHost {
  /** The host to name in `pulumi package add`: `localhost` (HTTPS on port 443). */
  readonly host: string;
  /** A CA bundle holding the server's certificate, for `SSL_CERT_FILE`. */
  readonly caFile: string;
  readonly tag: string;
  close(): Promise<void>;
}

const git = (args: string[], cwd: string, env: Record<string, string> = {}): string =>
  run("git", args, { cwd, env }).trim();

const WHO = {
  GIT_AUTHOR_NAME: "release",
  GIT_AUTHOR_EMAIL: "release@localhost",
  GIT_COMMITTER_NAME: "release",
  GIT_COMMITTER_EMAIL: "release@localhost",
};

export interface ReleaseRepo {
  /** The folder served: `<root>/<owner>/pulumi-kind-dev.git` is the bare repository. */
  readonly root: string;
  /** `file://` URL of the bare repository. */
  readonly fileUrl: string;
  /** `v<version>`, the version of the release's package.json. */
  readonly tag: string;
  /** The commit on `main` that `tag` names. */
  readonly commit: string;
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
  const tree = git(["rev-parse", `${ref}^{tree}`], REPO_DIR);
  git(["fetch", "--quiet", "--no-tags", REPO_DIR, ref], bare);
  const commit = git(["commit-tree", tree, "-m", `pulumi-kind-dev ${tag}`], bare, WHO);
  git(["update-ref", "refs/heads/main", commit], bare);
  git(["tag", "-a", tag, "-m", tag, commit], bare, WHO);
  git(["config", "http.receivepack", "false"], bare);
  return { root, fileUrl: `file://${bare}`, tag, commit };
}

/**
 * The work tree (every file git does not ignore, committed or not) as a commit on top of the
 * release in `repo`, tagged `tag`, through an index of its own (the checkout's is not touched).
 */
export function commitWorkTree(repo: ReleaseRepo, tag: string): string {
  const env = {
    ...WHO,
    GIT_DIR: repo.fileUrl.slice("file://".length),
    GIT_WORK_TREE: REPO_DIR,
    GIT_INDEX_FILE: path.join(repo.root, "work-tree.index"),
  };
  git(["read-tree", "main"], REPO_DIR, env);
  git(["add", "--all"], REPO_DIR, env);
  const tree = git(["write-tree"], REPO_DIR, env);
  const commit = git(["commit-tree", tree, "-p", "main", "-m", "the work tree"], REPO_DIR, env);
  git(["tag", "-a", tag, "-m", tag, commit], REPO_DIR, env);
  return commit;
}

/** makeReleaseRepo, served over HTTPS on 127.0.0.1:443 as `localhost`. */
export async function startGitHost(dir: string): Promise<GitHost> {
  const { root, tag } = makeReleaseRepo(dir);
  const key = path.join(dir, "server.key");
  const caFile = path.join(dir, "server.crt");
  const r = spawnSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
      ...["-nodes", "-days", "2", "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", caFile],
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

/** The version of `name` in this repository's lock file: what a consumer program declares. */
export function lockVersion(name: string): string {
  const lock = JSON.parse(readFileSync(path.join(REPO_DIR, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  };
  const v = lock.packages[`node_modules/${name}`]?.version;
  if (!v) {
    throw new Error(`${name} is not in package-lock.json`);
  }
  return v;
}

/** How one consumer suite runs its program. */
export interface ConsumerOptions {
  /** What its log lines start with: `[label] up: 12.3s`. */
  readonly label: string;
  /** The kind cluster and docker network the program makes, and its registry `<name>-registry`. */
  readonly name: string;
  readonly stackName: string;
  /** Tools besides the end-to-end bed's, by path, and how to build them. */
  readonly tools: readonly string[];
  readonly toolsHint: string;
  /**
   * Serve the release over HTTPS (`pulumi package add`), with a PULUMI_HOME of the program's
   * own (consumerEnv). Without: npm reads the bare repository, the bed's PULUMI_HOME.
   */
  readonly gitHost: boolean;
  /** Without a git host: the tag or commit the release is made from (HEAD unless given). */
  readonly release?: string;
  /** The program's workers, 1 unless 0: up expects their nodes. */
  readonly workers?: 0 | 1;
  /** The program keeps the default retainOnDestroy: destroy keeps the registry and network. */
  readonly keepsRegistry?: boolean;
  /** A directory whose `pulumi` (and language hosts) come first on PATH. */
  readonly cliDir?: string;
  /** Added to the environment of every `pulumi` command. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A consumer program on the real engine, in a temporary directory. Call inside a `describe`: its
 * beforeAll checks the bed, removes what an aborted run left, makes `work` (the program in
 * `project`, a file backend) and takes a free registry port; its afterAll destroys the stack and
 * removes everything by exact name. Each method is one step a test runs.
 */
export class ConsumerProject {
  work = "";
  project = "";
  /** The program's PULUMI_HOME (with a git host). */
  home = "";
  registryPort = 0;
  host: GitHost | undefined;
  release: ReleaseRepo | undefined;
  stack: Stack | undefined;

  constructor(readonly o: ConsumerOptions) {
    beforeAll(async () => {
      requireE2eBed(NODE_IMAGE);
      for (const tool of o.tools) {
        if (!existsSync(tool)) {
          throw new Error(`${tool} is missing: run ${o.toolsHint}`);
        }
      }
      this.cleanUp();
      this.work = mkdtempSync(path.join(os.tmpdir(), `${o.name}-`));
      this.project = path.join(this.work, "project");
      mkdirSync(this.project);
      mkdirSync(path.join(this.work, "state"));
      if (o.gitHost) {
        this.host = await startGitHost(this.work);
        this.home = consumerPulumiHome(path.join(this.work, "pulumi-home"));
      } else {
        this.release = makeReleaseRepo(this.work, o.release);
      }
      this.registryPort = await freePort();
    });
    afterAll(async () => {
      await this.stack?.destroy().catch(() => undefined);
      await this.stack?.workspace.removeStack(o.stackName).catch(() => undefined);
      this.cleanUp();
      await this.host?.close();
      if (this.work !== "" && process.env["KEEP_CONSUMER_DIR"] !== "1") {
        rmSync(this.work, { recursive: true, force: true });
      }
    });
  }

  private cleanUp(): void {
    const name = this.o.name;
    tryRun("kind", ["delete", "cluster", "--name", name]);
    tryRun("docker", ["rm", "-f", `${name}-registry`]);
    tryRun("docker", ["volume", "rm", `${name}-registry-data`]);
    tryRun("docker", ["network", "rm", name]);
  }

  /**
   * The environment of a `pulumi` command: the bed's (file backend, passphrase, tools). With a
   * git host: the PULUMI_HOME `home`, the host's certificate trusted (Go reads SSL_CERT_FILE; the
   * system's certificates are still read), language hosts found on PATH (a YAML or Python host
   * loads the kind-dev plugin itself and finds the Node.js host that runs it only there), cliDir
   * first on PATH.
   */
  env(home = this.home): Record<string, string> {
    const state = path.join(this.work, "state");
    if (this.host === undefined) {
      return pulumiEnv(state, `${WRAPPER_DIR}:`);
    }
    const cli = this.o.cliDir === undefined ? "" : `${this.o.cliDir}:`;
    return {
      ...pulumiEnv(state, `${WRAPPER_DIR}:${cli}`),
      PULUMI_HOME: home,
      SSL_CERT_FILE: this.host.caFile,
      PULUMI_IGNORE_AMBIENT_PLUGINS: "false",
      ...this.o.env,
    };
  }

  /** Runs `body`, printing how long it took. */
  async timed<T>(what: string, body: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await body();
    } finally {
      console.log(`[${this.o.label}] ${what}: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    }
  }

  /** `file args` in `cwd`, which must succeed. */
  async command(file: string, args: string[], cwd: string, home = this.home): Promise<void> {
    const r = await this.timed(commandLine(file, args), () =>
      runAsync(file, args, { cwd, env: this.env(home), timeoutMs: 900_000 }),
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  }

  /**
   * A TypeScript program in `project` with `index.ts` and the SDKs, types and compiler of this
   * repository's lock file, as a team's repo declares them.
   */
  typescriptProgram(program: string): void {
    const json = (file: string, value: unknown) =>
      writeFileSync(path.join(this.project, file), `${JSON.stringify(value, null, 2)}\n`);
    const versions = (names: string[]) => Object.fromEntries(names.map((n) => [n, lockVersion(n)]));
    json("package.json", {
      name: "team-infra",
      private: true,
      dependencies: versions(["@pulumi/kubernetes", "@pulumi/pulumi"]),
      devDependencies: versions(["@types/node", "ts-node", "typescript"]),
    });
    writeFileSync(
      path.join(this.project, "Pulumi.yaml"),
      "name: team-infra\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n",
    );
    json("tsconfig.json", {
      compilerOptions: {
        target: "ES2022",
        module: "commonjs",
        moduleResolution: "node",
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        types: ["node"],
      },
      files: ["index.ts"],
    });
    writeFileSync(path.join(this.project, "index.ts"), program);
  }

  /**
   * The README's two commands in `project`: the `.npmrc` line (once: a later install, of a newer
   * tag, finds it there), then `npm install` of `ref` from the bare repository (npm clones it and
   * runs the package's `prepare`, the build; other packages come from npm's cache where it has
   * them). Returns the commit npm resolved.
   */
  async npmInstall(ref: string): Promise<string> {
    if (!existsSync(path.join(this.project, ".npmrc"))) {
      await this.command("bash", ["-c", ALLOW_GIT_COMMAND], this.project);
    }
    const args = npmInstallArgs(this.release!.fileUrl, ref);
    await this.command(
      "npm",
      [...args, "--prefer-offline", "--no-audit", "--no-fund"],
      this.project,
    );
    const lock = JSON.parse(readFileSync(path.join(this.project, "package-lock.json"), "utf8")) as {
      packages: Record<string, { resolved?: string }>;
    };
    const resolved = lock.packages["node_modules/pulumi-kind-dev"]?.resolved ?? "";
    return resolved.slice(resolved.lastIndexOf("#") + 1);
  }

  /** Selects (or creates) the stack of the program in `dir`. */
  async select(dir = this.project, home = this.home): Promise<Stack> {
    this.stack = await bedStack({ stackName: this.o.stackName, workDir: dir }, this.env(home));
    return this.stack;
  }

  /**
   * `up` of the program with the free port as its `registryPort` config: it succeeds, and the
   * environment has a control plane (and a worker) and the registry on that port. Its outputs.
   */
  async up(): Promise<OutputMap> {
    const stack = await this.select();
    await stack.setConfig("registryPort", { value: String(this.registryPort) });
    const result = await this.timed("up", () =>
      stack.up({ onOutput: (o) => process.stdout.write(o) }),
    );
    expect(result.summary.result).toBe("succeeded");
    const outputs = await stack.outputs();
    const name = this.o.name;
    const workers = this.o.workers === 0 ? [] : [`${name}-worker`];
    expect(outputs["nodeNames"]?.value).toEqual([`${name}-control-plane`, ...workers]);
    expect(outputs["registryHost"]?.value).toBe(`localhost:${this.registryPort}`);
    return outputs;
  }

  /** kubectl on the cluster, with the `kubeconfig` output, which must be secret. */
  async kubectl(...args: string[]): Promise<string> {
    const kubeconfig = (await this.stack!.outputs())["kubeconfig"];
    expect(kubeconfig?.secret).toBe(true);
    const file = path.join(this.work, "kubeconfig");
    writeFileSync(file, String(kubeconfig?.value), { mode: 0o600 });
    return run("kubectl", ["--kubeconfig", file, ...args]);
  }

  /** A preview that finds nothing to change. */
  async expectNoChanges(): Promise<void> {
    const preview = await this.timed("preview", () => this.stack!.preview());
    const changed = Object.entries(preview.changeSummary).filter(
      ([op, n]) => op !== "same" && (n ?? 0) > 0,
    );
    expect(changed).toEqual([]);
  }

  /**
   * Pulumi.yaml, the stack's config and `extra` files of the program copied to a fresh directory
   * with an empty plugin cache, restored by `pulumi install`, which installs this package's
   * plugin there, and its stack selected. Returns the fresh directory and its PULUMI_HOME.
   */
  async freshCopy(extra: readonly string[] = []): Promise<{ dir: string; home: string }> {
    const dir = path.join(this.work, "fresh");
    mkdirSync(dir);
    for (const f of ["Pulumi.yaml", `Pulumi.${this.o.stackName}.yaml`, ...extra]) {
      copyFileSync(path.join(this.project, f), path.join(dir, f));
    }
    const home = consumerPulumiHome(path.join(this.work, "pulumi-home-fresh"));
    expect(installedKindDevPlugins(home)).toEqual([]);
    await this.command("pulumi", ["install"], dir, home);
    expect(installedKindDevPlugins(home)).toHaveLength(1);
    await this.select(dir, home);
    return { dir, home };
  }

  /** `destroy`, which removes the cluster, the registry and the network (or keeps both). */
  async destroy(): Promise<void> {
    const result = await this.timed("destroy", () =>
      this.stack!.destroy({ onOutput: (o) => process.stdout.write(o) }),
    );
    expect(result.summary.result).toBe("succeeded");
    const name = this.o.name;
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(name);
    const kept = this.o.keepsRegistry === true;
    expect(tryRun("docker", ["inspect", `${name}-registry`]).ok).toBe(kept);
    expect(tryRun("docker", ["network", "inspect", name]).ok).toBe(kept);
  }
}
