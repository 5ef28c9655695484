import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CERTS_D, HOSTS_MANIFEST } from "../../../components/render/containerd";
import { parseHostsList } from "../../../components/doctor/parse";
import { UNMANAGED_HOSTS_FILES_SCRIPT } from "../../../components/lookup";
import {
  cacheContainerSpec,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  REGISTRY_DATA_PATH,
  registryContainerSpec,
  specHash,
} from "../../../components/render/containers";
import type { HostsFile } from "../../../components/render/hostsToml";
import {
  clusterScript,
  hostsEnvironment,
  hostsFileEnvName,
  hostsScript,
  hostsTomlScript,
  networkScript,
  publishArg,
  registryContainerScript,
  type Script,
} from "../../../components/scripts";
import type { ContainerSpec } from "../../../components/render/containers";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";

/** The component's script for a container, with SPEC set to `fingerprint` when given. */
function containerScript(
  spec: ContainerSpec,
  options: {
    probeUrl?: string;
    fingerprint?: string;
    secretEnv?: Record<string, string>;
    removeOnDelete?: boolean;
  } = {},
): Script {
  const script = registryContainerScript({
    spec,
    probeUrl: options.probeUrl,
    secretEnv: options.secretEnv ?? {},
    state: "absent",
    removeOnDelete: options.removeOnDelete ?? false,
  });
  return options.fingerprint === undefined
    ? script
    : { ...script, environment: { ...script.environment, SPEC: options.fingerprint } };
}

const FAKES = path.resolve(__dirname, "../fakes");
// Tools the scripts may use; every other command, docker and kind included, is absent unless
// the test puts a fake in place.
const TOOLS = [
  "sh",
  "cat",
  "mktemp",
  "rm",
  "grep",
  "sleep",
  "curl",
  "node",
  "mv",
  "mkdir",
  "printenv",
];

let tmp: string;
let bin: string;
let log: string;

function which(tool: string): string {
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin"]) {
    const p = path.join(dir, tool);
    if (fs.existsSync(p) && !(tool === "docker" || tool === "kind")) {
      return p;
    }
  }
  throw new Error(`${tool} not found`);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-scripts-"));
  bin = path.join(tmp, "bin");
  fs.mkdirSync(bin);
  for (const tool of TOOLS) {
    fs.symlinkSync(which(tool), path.join(bin, tool));
  }
  log = path.join(tmp, "calls.jsonl");
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

beforeEach(() => {
  fs.rmSync(log, { force: true });
  fs.rmSync(`${log}.state`, { force: true });
  for (const fake of ["docker", "kind"]) {
    fs.rmSync(path.join(bin, fake), { force: true });
    fs.symlinkSync(path.join(FAKES, fake), path.join(bin, fake));
  }
});

function withoutTool(tool: string): void {
  fs.rmSync(path.join(bin, tool), { force: true });
}

interface Call {
  tool: string;
  argv: string[];
  stdin?: string | null;
  config?: string | null;
  envValues?: Record<string, string | null>;
}

function run(
  cmd: Script,
  script: "create" | "delete" = "create",
  extra: Record<string, string> = {},
) {
  const text = script === "create" ? cmd.create : cmd.delete;
  if (text === undefined) {
    throw new Error(`no ${script} script`);
  }
  const result = spawnSync("/bin/sh", ["-c", text], {
    env: { PATH: bin, FAKE_LOG: log, ...cmd.environment, ...extra },
    encoding: "utf8",
  });
  const calls: Call[] = fs.existsSync(log)
    ? fs
        .readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Call)
    : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

describe("preflight", () => {
  it("fails with a clear message when docker is not on PATH", () => {
    withoutTool("docker");
    const r = run(networkScript("kind", false));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the docker CLI is not on PATH; install Docker and retry\n",
    );
  });

  it("fails with a clear message when the daemon does not answer", () => {
    const r = run(
      hostsScript("n", [{ hostDir: "docker.io", slug: "docker-io", toml: "x" }]),
      "create",
      {
        FAKE_DOCKER_INFO_EXIT: "1",
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n",
    );
    expect(r.calls.map((c) => c.argv[0])).toEqual(["info"]);
  });

  it("fails with a clear message when kind is not on PATH", () => {
    withoutTool("kind");
    const r = run(clusterScript("dev", "kind", "kind: Cluster\n"));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry\n",
    );
  });
});

describe("network", () => {
  it("creates the network when it is absent", () => {
    const r = run(networkScript("kind", false));
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      ["network", "inspect", "kind"],
      ["network", "create", "kind"],
    ]);
  });

  it("reuses an existing network", () => {
    const r = run(networkScript("kind", false), "create", { FAKE_NETWORK_EXISTS: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["info"], ["network", "inspect", "kind"]]);
    expect(r.stderr).toContain("using existing docker network kind");
  });

  it("has a delete step only when the network is not retained", () => {
    expect(networkScript("kind", false).delete).toBeUndefined();
    const r = run(networkScript("kind", true), "delete", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["network", "rm", "kind"]]);
    expect(r.stderr).toContain("kept docker network kind: it is still in use or already gone");
  });
});

describe("cluster", () => {
  const config = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: "dev"\n';

  it("creates the cluster from the rendered config and prints nothing on stdout", () => {
    const r = run(clusterScript("dev", "kind", config));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    const kind = r.calls.filter((c) => c.tool === "kind");
    expect(kind.map((c) => c.argv.slice(0, 4))).toEqual([
      ["get", "clusters"],
      ["create", "cluster", "--name", "dev"],
    ]);
    expect(kind[1]!.config).toBe(config);
    expect(r.stderr).toContain("kind progress");
  });

  it("refuses to take over a cluster of the same name", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-state-"));
    const r = run(clusterScript("dev", "kind", config), "create", {
      FAKE_KIND_CLUSTERS: "other\ndev\n",
      XDG_STATE_HOME: state,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a kind cluster named dev already exists and is not in this stack");
    expect(r.calls.some((c) => c.argv[0] === "create" || c.argv[0] === "delete")).toBe(false);
  });

  it("leaves no marker once the cluster is created", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-state-"));
    const r = run(clusterScript("dev", "kind", config), "create", { XDG_STATE_HOME: state });
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(state, "pulumi-kind-dev"))).toEqual([]);
  });

  it("deletes and creates again a cluster left by an interrupted run (its marker remains)", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-state-"));
    fs.mkdirSync(path.join(state, "pulumi-kind-dev"));
    fs.writeFileSync(path.join(state, "pulumi-kind-dev", "creating-dev"), "");
    const r = run(clusterScript("dev", "kind", config), "create", {
      FAKE_KIND_CLUSTERS: "dev\n",
      XDG_STATE_HOME: state,
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      "the kind cluster dev is left from an interrupted run (its creation never finished): deleting it and creating it again",
    );
    expect(r.calls.filter((c) => c.tool === "kind").map((c) => c.argv.slice(0, 4))).toEqual([
      ["get", "clusters"],
      ["delete", "cluster", "--name", "dev"],
      ["create", "cluster", "--name", "dev"],
    ]);
    expect(fs.readdirSync(path.join(state, "pulumi-kind-dev"))).toEqual([]);
  });

  it("keeps the marker when kind is killed or fails, so the next run cleans up", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-state-"));
    const r = run(clusterScript("dev", "kind", config), "create", {
      FAKE_KIND_EXIT: "1",
      XDG_STATE_HOME: state,
    });
    expect(r.status).not.toBe(0);
    expect(fs.readdirSync(path.join(state, "pulumi-kind-dev"))).toEqual(["creating-dev"]);
  });

  it("fails when kind fails", () => {
    const r = run(clusterScript("dev", "kind", config), "create", { FAKE_KIND_EXIT: "1" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  it("deletes the cluster by name", () => {
    const r = run(clusterScript("dev", "kind", config), "delete");
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["delete", "cluster", "--name", "dev"]]);
  });
});

const SCRIPTS_DIR = path.resolve(__dirname, "../../../components/scripts");
/** scripts/hosts-node.sh as node_script prints it inside `$(...)`: trailing newlines go. */
const NODE_SCRIPT = fs
  .readFileSync(path.join(SCRIPTS_DIR, "hosts-node.sh"), "utf8")
  .replace(/\n+$/, "");

const REGISTRY_TOML = '[host."http://kind-registry:5000"]\n';
const DOCKER_IO_TOML =
  'server = "https://registry-1.docker.io"\n\n[host."http://kind-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n';
const FILES: HostsFile[] = [
  { hostDir: "localhost:5001", slug: "localhost-5001", toml: REGISTRY_TOML },
  { hostDir: "kind-registry:5000", slug: "kind-registry-5000", toml: REGISTRY_TOML },
  { hostDir: "docker.io", slug: "docker-io", toml: DOCKER_IO_TOML },
];

describe("hosts.toml: one command per node", () => {
  it("renders one variable per file, named after its host, and the list of them", () => {
    expect(hostsEnvironment("dev-worker", FILES)).toEqual({
      NODE: "dev-worker",
      HOSTS:
        "HOSTS_TOML_LOCALHOST_5001 localhost:5001\n" +
        "HOSTS_TOML_KIND_REGISTRY_5000 kind-registry:5000\n" +
        "HOSTS_TOML_DOCKER_IO docker.io\n",
      HOSTS_TOML_LOCALHOST_5001: '[host."http://kind-registry:5000"]\n',
      HOSTS_TOML_KIND_REGISTRY_5000: '[host."http://kind-registry:5000"]\n',
      HOSTS_TOML_DOCKER_IO:
        'server = "https://registry-1.docker.io"\n\n[host."http://kind-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
    });
    expect(hostsEnvironment("dev-control-plane", [])).toEqual({
      NODE: "dev-control-plane",
      HOSTS: "",
    });
  });

  it.each([
    ["docker-io", "HOSTS_TOML_DOCKER_IO"],
    ["registry-k8s-io", "HOSTS_TOML_REGISTRY_K8S_IO"],
    ["localhost-5001", "HOSTS_TOML_LOCALHOST_5001"],
    ["my-registry-5000", "HOSTS_TOML_MY_REGISTRY_5000"],
  ])("carries %s's text in %s", (slug, name) => {
    expect(hostsFileEnvName({ slug })).toBe(name);
  });

  it("refuses two files that would share a variable", () => {
    expect(() =>
      hostsEnvironment("n", [
        { hostDir: "a.b", slug: "a-b", toml: "" },
        { hostDir: "a:b", slug: "a-b", toml: "" },
      ]),
    ).toThrow('hosts.toml files for "a:b" and another host share the variable HOSTS_TOML_A_B');
  });

  it("hands every file to the node script in one docker exec, the texts as arguments", () => {
    const r = run(hostsScript("dev-worker", FILES));
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      [
        "exec",
        "dev-worker",
        "sh",
        "-c",
        NODE_SCRIPT,
        "sh",
        "/etc/containerd/certs.d",
        "localhost:5001",
        REGISTRY_TOML,
        "kind-registry:5000",
        REGISTRY_TOML,
        "docker.io",
        DOCKER_IO_TOML,
      ],
    ]);
  });

  it("fails naming the node when the node cannot be written", () => {
    const r = run(hostsScript("dev-worker", FILES), "create", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: could not write the hosts.toml files on dev-worker (see the error above)\n",
    );
  });

  it("refuses a list line that names no HOSTS_TOML_ variable, or one that is not set", () => {
    for (const line of [
      "PATH docker.io",
      "HOSTS_TOML_ docker.io",
      "HOSTS_TOML_X-Y docker.io",
      "HOSTS_TOML_GONE docker.io",
    ]) {
      fs.rmSync(log, { force: true });
      const r = run(hostsScript("dev-worker", FILES), "create", { HOSTS: `${line}\n` });
      expect(r.status, line).toBe(1);
      expect(r.stderr).toBe(
        "pulumi-kind-dev: HOSTS names no variable HOSTS_TOML_* that is set, in the line for 'docker.io'\n",
      );
      expect(r.calls.map((c) => c.argv[0])).toEqual(["info"]);
    }
  });

  it("on delete asks the node script to remove what it wrote, and never fails", () => {
    const r = run(hostsScript("dev-worker", FILES), "delete", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["exec", "dev-worker", "sh", "-c", NODE_SCRIPT, "sh", "/etc/containerd/certs.d"],
    ]);
  });

  it("delivers any node name and text unchanged, so no input can alter the command (property)", () => {
    // Environment values cannot hold NUL; everything else is fair game. Host directories are
    // validated host names (config.ts) and checked again inside the node.
    const value = fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\0"));
    const host = fc.stringMatching(/^[a-z0-9][a-z0-9.:-]{0,20}$/);
    fc.assert(
      fc.property(value, host, value, value, (node, hostDir, text1, text2) => {
        fs.rmSync(log, { force: true });
        const files = [
          { hostDir, slug: "one", toml: text1 },
          { hostDir: "docker.io", slug: "docker-io", toml: text2 },
        ];
        const r = run(hostsScript(node, files));
        expect(r.status).toBe(0);
        expect(r.calls.at(-1)!.argv).toEqual([
          "exec",
          node,
          "sh",
          "-c",
          NODE_SCRIPT,
          "sh",
          "/etc/containerd/certs.d",
          hostDir,
          text1,
          "docker.io",
          text2,
        ]);
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});

describe("hosts.toml: the script inside the node", () => {
  let root: string;
  let certs: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(tmp, "node-"));
    certs = path.join(root, "certs.d");
  });

  /** Runs hosts-node.sh as the node's `sh -c` does, on `certs` instead of /etc/containerd/certs.d. */
  function inNode(...pairs: string[]) {
    return spawnSync("/bin/sh", ["-c", NODE_SCRIPT, "sh", certs, ...pairs], {
      env: { PATH: bin },
      encoding: "utf8",
    });
  }
  function tree(dir: string = certs): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) {
        const p = path.join(e.parentPath, e.name);
        out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
      }
    }
    return out;
  }

  it("writes each file and the manifest of the directories it wrote", () => {
    const r = inNode("localhost:5001", REGISTRY_TOML, "docker.io", DOCKER_IO_TOML);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `wrote ${certs}/localhost:5001/hosts.toml\nwrote ${certs}/docker.io/hosts.toml\n`,
    );
    expect(tree()).toEqual({
      ".kind-dev-managed": "localhost:5001\ndocker.io\n",
      "localhost:5001/hosts.toml": REGISTRY_TOML,
      "docker.io/hosts.toml": DOCKER_IO_TOML,
    });
  });

  it("rewrites only a file whose text changed, byte for byte (trailing newlines count)", () => {
    inNode("localhost:5001", REGISTRY_TOML, "docker.io", DOCKER_IO_TOML);
    const before = fs.statSync(path.join(certs, "docker.io/hosts.toml")).ino;
    const r = inNode("localhost:5001", `${REGISTRY_TOML}\n`, "docker.io", DOCKER_IO_TOML);
    expect(r.stdout).toBe(
      `wrote ${certs}/localhost:5001/hosts.toml\nkept ${certs}/docker.io/hosts.toml\n`,
    );
    expect(fs.statSync(path.join(certs, "docker.io/hosts.toml")).ino).toBe(before);
    expect(tree()["localhost:5001/hosts.toml"]).toBe(`${REGISTRY_TOML}\n`);
  });

  it("removes a directory it wrote that the list no longer names, and no other", () => {
    inNode("localhost:5001", REGISTRY_TOML, "quay.io", "q\n");
    // Written by hand, or by version 0.1 (no manifest entry): not this script's to remove.
    fs.mkdirSync(path.join(certs, "ghcr.io"));
    fs.writeFileSync(path.join(certs, "ghcr.io/hosts.toml"), "by hand\n");
    const r = inNode("localhost:5001", REGISTRY_TOML);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`kept ${certs}/localhost:5001/hosts.toml\nremoved ${certs}/quay.io\n`);
    expect(tree()).toEqual({
      ".kind-dev-managed": "localhost:5001\n",
      "localhost:5001/hosts.toml": REGISTRY_TOML,
      "ghcr.io/hosts.toml": "by hand\n",
    });
  });

  it("with no files removes what it wrote and the manifest (the delete step)", () => {
    inNode("localhost:5001", REGISTRY_TOML);
    fs.mkdirSync(path.join(certs, "ghcr.io"));
    const r = inNode();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`removed ${certs}/localhost:5001\n`);
    expect(fs.readdirSync(certs)).toEqual(["ghcr.io"]);
  });

  it("never follows a manifest line out of certs.d", () => {
    fs.mkdirSync(certs);
    fs.mkdirSync(path.join(root, "outside"));
    fs.writeFileSync(
      path.join(certs, ".kind-dev-managed"),
      `../outside\n.\n..\n\n.kind-dev-managed\n${root}/outside\n`,
    );
    expect(inNode().status).toBe(0);
    expect(fs.existsSync(path.join(root, "outside"))).toBe(true);
    expect(fs.existsSync(certs)).toBe(true);
  });

  it.each([[""], ["."], [".."], [".kind-dev-managed"], ["../outside"], ["a/b"], ["a\nb"]])(
    "refuses the host directory %j and writes nothing",
    (dir) => {
      const r = inNode(dir, "x");
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`not a host directory: '${dir}'\n`);
      expect(tree(root)).toEqual({});
    },
  );

  it("refuses a missing or relative certs.d and an odd number of arguments", () => {
    const run2 = (...args: string[]) =>
      spawnSync("/bin/sh", ["-c", NODE_SCRIPT, "sh", ...args], {
        env: { PATH: bin },
        encoding: "utf8",
      });
    expect(run2().stderr).toBe("expected the certs.d directory as an absolute path, got ''\n");
    expect(run2("certs.d", "a", "x").status).toBe(2);
    const odd = run2(certs, "a");
    expect(odd.status).toBe(2);
    expect(odd.stderr).toBe(
      "expected pairs of host directory and hosts.toml text, got 1 arguments\n",
    );
  });

  it("with --list prints each hosts.toml as its directory and text, NUL-ended, and changes nothing", () => {
    const list = () =>
      spawnSync("/bin/sh", ["-c", NODE_SCRIPT, "sh", "--list", certs], {
        env: { PATH: bin },
        encoding: "utf8",
      });
    expect(list()).toMatchObject({ status: 0, stdout: "" });
    inNode("localhost:5001", REGISTRY_TOML, "docker.io", DOCKER_IO_TOML);
    fs.mkdirSync(path.join(certs, "ghcr.io"));
    fs.writeFileSync(path.join(certs, "ghcr.io/hosts.toml"), "by hand\n\n");
    const before = tree();
    const r = list();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `docker.io\0${DOCKER_IO_TOML}\0ghcr.io\0by hand\n\n\0localhost:5001\0${REGISTRY_TOML}\0`,
    );
    expect(parseHostsList(r.stdout)).toEqual({
      "docker.io": DOCKER_IO_TOML,
      "ghcr.io": "by hand\n\n",
      "localhost:5001": REGISTRY_TOML,
    });
    expect(tree()).toEqual(before);
  });

  it("writes any valid directory's text exactly and nothing outside certs.d (property)", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));
    const dir = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(dir, text, (d, t) => {
        fs.rmSync(root, { recursive: true, force: true });
        fs.mkdirSync(root);
        const r = inNode(d, t);
        const valid = d !== "" && !d.startsWith(".") && !d.includes("/") && !d.includes("\n");
        if (valid) {
          expect(r.status).toBe(0);
          expect(tree(root)).toEqual({
            [path.join("certs.d", d, "hosts.toml")]: t,
            [path.join("certs.d", ".kind-dev-managed")]: `${d}\n`,
          });
        } else {
          expect(r.status).toBe(2);
          expect(tree(root)).toEqual({});
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});

describe("hosts.toml: version 0.1's command per file (deprecated, still used by integration tests)", () => {
  it("pipes the file into the node and passes the directory as an argument", () => {
    const toml = '[host."http://kind-registry:5000"]\n';
    const r = run(hostsTomlScript("dev-worker", "localhost:5001", toml));
    expect(r.status).toBe(0);
    const exec = r.calls.at(-1)!;
    expect(exec.argv).toEqual([
      "exec",
      "-i",
      "dev-worker",
      "sh",
      "-c",
      'set -eu; d="/etc/containerd/certs.d/$1"; mkdir -p "$d"; cat > "$d/hosts.toml.tmp"; mv "$d/hosts.toml.tmp" "$d/hosts.toml"',
      "sh",
      "localhost:5001",
    ]);
    expect(exec.stdin).toBe(toml);
  });

  it("removes the file on delete and never fails if the node is gone", () => {
    const r = run(hostsTomlScript("dev-worker", "docker.io", "x"), "delete", {
      FAKE_DOCKER_EXIT: "1",
    });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["exec", "dev-worker", "sh", "-c", 'rm -rf "/etc/containerd/certs.d/$1"', "sh", "docker.io"],
    ]);
  });

  it("delivers any value unchanged, so no input can alter the command (property)", () => {
    // Environment values cannot hold NUL; everything else is fair game.
    const value = fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(value, value, value, (node, hostDir, toml) => {
        fs.rmSync(log, { force: true });
        const r = run(hostsTomlScript(node, hostDir, toml));
        expect(r.status).toBe(0);
        const exec = r.calls.at(-1)!;
        expect(exec.argv[2]).toBe(node);
        expect(exec.argv[7]).toBe(hostDir);
        expect(exec.argv).toHaveLength(8);
        expect(exec.stdin).toBe(toml);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it("hands kind the config byte for byte whatever it contains (property)", () => {
    const value = fc.string({ unit: "binary", maxLength: 60 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(value, (config) => {
        fs.rmSync(log, { force: true });
        const r = run(clusterScript("dev", "kind", config));
        expect(r.status).toBe(0);
        expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(config);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe("registry and cache containers", () => {
  // A registry stand-in in its own process: run() blocks this one while a script runs.
  let server: ChildProcess;
  let probeUrl: string;

  beforeAll(async () => {
    server = spawn(process.execPath, [
      "-e",
      `const s = require("node:http").createServer((q, r) => { r.statusCode = q.url === "/v2/" ? 200 : 404; r.end("{}"); });
       s.listen(0, "127.0.0.1", () => console.log(s.address().port));`,
    ]);
    const port = await new Promise<string>((resolve) =>
      server.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    probeUrl = `http://127.0.0.1:${port}/v2/`;
  });

  afterAll(() => {
    server.kill();
  });

  const registrySpec = registryContainerSpec(REGISTRY_INPUT);
  const registry = () => containerScript(registrySpec, { probeUrl });
  const cacheSpec = cacheContainerSpec(DOCKER_HUB_CACHE_INPUT);
  const secret = { REGISTRY_PROXY_PASSWORD: "s3cr3t value; $(rm -rf /)" };
  const cache = (): Script =>
    registryContainerScript({
      spec: cacheSpec,
      secretEnv: secret,
      state: "absent",
      removeOnDelete: true,
    });

  it("starts the registry on its volume with labels, publishes loopback, waits for /v2/", () => {
    const r = run(registry());
    expect(r.status).toBe(0);
    const docker = r.calls.filter((c) => c.tool === "docker");
    expect(docker.map((c) => c.argv.slice(0, 2))).toEqual([
      ["info"],
      ["container", "inspect"],
      ["volume", "inspect"],
      ["volume", "create"],
      ["run", "--detach"],
    ]);
    expect(docker[3]!.argv).toEqual([
      "volume",
      "create",
      "--label",
      "dev.pulumi-kind-dev.managed=true",
      "kind-registry-data",
    ]);
    expect(docker[4]!.argv).toEqual([
      "run",
      "--detach",
      "--name",
      "kind-registry",
      "--restart",
      "always",
      "--network",
      "kind",
      "--volume",
      "kind-registry-data:/var/lib/registry",
      "--label",
      "dev.pulumi-kind-dev.managed=true",
      "--label",
      "dev.pulumi-kind-dev.role=registry",
      "--label",
      `dev.pulumi-kind-dev.spec=${specHash(registrySpec)}`,
      "--publish",
      "127.0.0.1:5001:5000",
      "--env",
      "REGISTRY_STORAGE_DELETE_ENABLED",
      "registry:3",
    ]);
    expect(docker[4]!.envValues).toEqual({ REGISTRY_STORAGE_DELETE_ENABLED: "true" });
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
  });

  it("keeps a running container of this package with the same configuration (adoption)", () => {
    const r = run(registry(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:3",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: specHash(registrySpec),
    });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv[0])).toEqual([
      "info",
      "container",
      "container",
      "container",
      "container",
    ]);
    expect(r.stderr).toContain("using the existing registry container kind-registry");
  });

  it("starts a stopped container of this package instead of replacing it", () => {
    const r = run(registry(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:3",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: specHash(registrySpec),
      FAKE_CONTAINER_RUNNING: "false",
    });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.argv[0] !== "container").map((c) => c.argv)).toEqual([
      ["info"],
      ["start", "kind-registry"],
    ]);
    expect(r.stderr).toContain("started the existing registry container kind-registry");
  });

  it("checks a cache it restarted, and names the URL it could not reach", () => {
    const r = run(cache(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:3",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: specHash(cacheSpec, secret),
      FAKE_CONTAINER_RUNNING: "false",
      FAKE_RESTARTS_AFTER_START: "2",
    });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.argv[0] === "start")).toBe(true);
    expect(r.calls.filter((c) => c.argv[0] === "container").at(-1)!.argv[3]).toBe(
      "{{.State.Running}} {{.RestartCount}}",
    );
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the existing cache container kind-cache-docker-io; data on volume kind-cache-docker-io-data\n" +
        "pulumi-kind-dev: warning: cache kind-cache-docker-io is restarting: the registry exits at start while its upstream https://registry-1.docker.io does not answer. Until it does, nodes pull from docker.io directly; see 'docker logs kind-cache-docker-io'\n",
    );
  });

  it("makes a container again whose first start failed", () => {
    const r = run(registry(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:3",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: specHash(registrySpec),
      FAKE_CONTAINER_RUNNING: "false",
      FAKE_START_EXIT: "1",
    });
    expect(r.status).toBe(0);
    const acts = r.calls.filter((c) => c.argv[0] !== "container").map((c) => c.argv.slice(0, 2));
    expect(acts).toEqual([
      ["info"],
      ["start", "kind-registry"],
      ["rm", "-f"],
      ["volume", "inspect"],
      ["volume", "create"],
      ["run", "--detach"],
    ]);
  });

  it("removes what a failed docker run left behind and fails", () => {
    const r = run(registry(), "create", { FAKE_RUN_EXIT: "125" });
    expect(r.status).toBe(1);
    expect(r.calls.at(-1)!.argv).toEqual(["rm", "-f", "kind-registry"]);
    expect(r.stderr).toContain(
      "pulumi-kind-dev: could not start the registry container kind-registry (see the docker error above)",
    );
  });

  it("reuses a volume of its own and refuses anyone else's", () => {
    const own = run(registry(), "create", { FAKE_VOLUME_EXISTS: "1", FAKE_VOLUME_MANAGED: "true" });
    expect(own.status).toBe(0);
    expect(own.calls.some((c) => c.argv[0] === "volume" && c.argv[1] === "create")).toBe(false);
    fs.rmSync(log, { force: true });
    fs.rmSync(`${log}.state`, { force: true });
    const other = run(registry(), "create", { FAKE_VOLUME_EXISTS: "1" });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(
      "pulumi-kind-dev: a volume named kind-registry-data already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone.",
    );
    expect(other.calls.some((c) => c.argv[0] === "run")).toBe(false);
  });

  it("replaces a container of this package whose configuration changed, keeping the volume", () => {
    const r = run(registry(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:3",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: "older",
    });
    expect(r.status).toBe(0);
    const acts = r.calls.filter((c) => c.argv[0] !== "container").map((c) => c.argv.slice(0, 2));
    expect(acts).toEqual([
      ["info"],
      ["rm", "-f"],
      ["volume", "inspect"],
      ["volume", "create"],
      ["run", "--detach"],
    ]);
    expect(r.calls.some((c) => c.argv[0] === "volume" && c.argv[1] === "rm")).toBe(false);
    // Same image: no word about images.
    expect(r.stderr.split("\n")[0]).toBe(
      "pulumi-kind-dev: replacing the registry container kind-registry, whose configuration changed; data stays on volume kind-registry-data",
    );
  });

  it("says so when the replaced container ran another image: the upgrade from registry:2", () => {
    // A registry made by an earlier version of this package: its labels, registry:2, another
    // fingerprint.
    const r = run(registry(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: "made-by-an-earlier-version",
    });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.argv[0] !== "container").map((c) => c.argv)).toEqual([
      ["info"],
      ["rm", "-f", "kind-registry"],
      [
        "volume",
        "inspect",
        "--format",
        '{{index .Labels "dev.pulumi-kind-dev.managed"}}',
        "kind-registry-data",
      ],
      ["volume", "create", "--label", "dev.pulumi-kind-dev.managed=true", "kind-registry-data"],
      expect.arrayContaining(["run", "--volume", "kind-registry-data:/var/lib/registry"]),
    ]);
    expect(r.calls.find((c) => c.argv[0] === "run")!.argv.at(-1)).toBe("registry:3");
    expect(r.stderr).toBe(
      "pulumi-kind-dev: replacing the registry container kind-registry: image registry:2 -> registry:3; data stays on volume kind-registry-data. To keep registry:2, set registryImage: registry:2\n" +
        "pulumi-kind-dev: started the registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
  });

  it("names the images when a cache is replaced on another image, keeping its volume", () => {
    const r = run(cache(), "create", {
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: "made-by-an-earlier-version",
    });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.argv[0] === "volume" && c.argv[1] === "rm")).toBe(false);
    expect(r.calls.find((c) => c.argv[0] === "run")!.argv.at(-1)).toBe("registry:3");
    expect(r.stderr).toBe(
      "pulumi-kind-dev: replacing the cache container kind-cache-docker-io: image registry:2 -> registry:3; data stays on volume kind-cache-docker-io-data. To keep registry:2, set registryImage: registry:2\n" +
        "pulumi-kind-dev: started the cache container kind-cache-docker-io; data on volume kind-cache-docker-io-data\n",
    );
  });

  it("keeps a registry:2 container whose fingerprint matches: registryImage registry:2 set", () => {
    const spec = registryContainerSpec({ ...REGISTRY_INPUT, image: "registry:2" });
    const r = run(containerScript(spec, { probeUrl }), "create", {
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: specHash(spec),
    });
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => ["rm", "run", "start"].includes(c.argv[0]!))).toBe(false);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: using the existing registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
  });

  it("names any found and wanted image verbatim and still replaces the container (property)", () => {
    const value = fc
      .string({ unit: "binary", minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes("\0") && !s.endsWith("\n"));
    fc.assert(
      fc.property(value, value, (found, wanted) => {
        fc.pre(found !== wanted);
        fs.rmSync(log, { force: true });
        fs.rmSync(`${log}.state`, { force: true });
        const spec = { ...registrySpec, image: wanted };
        const r = run(containerScript(spec, { probeUrl, fingerprint: "new" }), "create", {
          FAKE_CONTAINER_IMAGE: found,
          FAKE_CONTAINER_MANAGED: "true",
          FAKE_CONTAINER_SPEC: "old",
        });
        expect(r.status).toBe(0);
        expect(r.stderr).toContain(
          `replacing the registry container kind-registry: image ${found} -> ${wanted}; data stays on volume kind-registry-data. To keep ${found}, set registryImage: ${found}\n`,
        );
        const dockerRun = r.calls.find((c) => c.argv[0] === "run")!;
        expect(dockerRun.argv.at(-1)).toBe(wanted);
        expect(dockerRun.argv).toHaveLength(21);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("refuses a container of that name that this package did not create", () => {
    const r = run(registry(), "create", { FAKE_CONTAINER_IMAGE: "nginx:latest" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: a container named kind-registry already exists (image nginx:latest) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f kind-registry) or choose another container name.\n",
    );
    expect(r.calls.some((c) => ["rm", "run", "start"].includes(c.argv[0]!))).toBe(false);
  });

  it("fails with the registry's name when /v2/ never answers", () => {
    const c = registry();
    const r = run({
      ...c,
      environment: { ...c.environment, PROBE_URL: probeUrl + "x", ATTEMPTS: "2" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `the registry kind-registry did not answer GET ${probeUrl}x after 2 tries; see 'docker logs kind-registry'`,
    );
  });

  it("passes cache credentials only through the environment", () => {
    const r = run(cache());
    expect(r.status).toBe(0);
    const dockerRun = r.calls.find((c) => c.argv[0] === "run")!;
    expect(dockerRun.argv.join(" ")).not.toContain("s3cr3t");
    expect(dockerRun.envValues).toEqual({
      REGISTRY_PROXY_PASSWORD: secret.REGISTRY_PROXY_PASSWORD,
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(dockerRun.argv).toContain("dev.pulumi-kind-dev.upstream=docker.io");
    expect(dockerRun.argv).not.toContain("--publish");
    expect(r.stderr).not.toContain("s3cr3t");
    expect(r.stderr).not.toContain("warning");
  });

  it("warns, without failing, when a new cache keeps restarting", () => {
    const r = run(cache(), "create", { FAKE_RESTARTS_AFTER_RUN: "3" });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      "pulumi-kind-dev: warning: cache kind-cache-docker-io is restarting: the registry exits at start while its upstream https://registry-1.docker.io does not answer. Until it does, nodes pull from docker.io directly",
    );
  });

  it("removes container and volume on delete only when not retained", () => {
    expect(registry().delete).toBeUndefined();
    const r = run(cache(), "delete");
    expect(r.status).toBe(0);
    // First: which kind nodes on its network could still pull through it (none here).
    expect(r.calls.map((c) => c.argv)).toEqual([
      [
        "ps",
        "-a",
        "--filter",
        "label=io.x-k8s.kind.cluster",
        "--filter",
        "network=kind",
        "--format",
        "{{.Names}}",
      ],
      ["rm", "-f", "kind-cache-docker-io"],
      ["volume", "rm", "kind-cache-docker-io-data"],
    ]);
  });

  it("publishes IPv6 addresses in brackets", () => {
    expect(publishArg({ hostIp: "::1", hostPort: 5001, containerPort: 5000 })).toBe(
      "[::1]:5001:5000",
    );
    expect(publishArg({ hostIp: "0.0.0.0", hostPort: 5001, containerPort: 5000 })).toBe(
      "0.0.0.0:5001:5000",
    );
  });

  it("rejects an environment variable name that is not a plain identifier", () => {
    expect(() => containerScript(registrySpec, { secretEnv: { "A B": "x" } })).toThrow(
      'invalid container environment variable name "A B"',
    );
  });

  it("hands every value to docker unchanged whatever it contains (property)", () => {
    const value = fc
      .string({ unit: "binary", minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(value, value, value, value, value, (name, image, network, volume, password) => {
        fs.rmSync(log, { force: true });
        fs.rmSync(`${log}.state`, { force: true });
        const spec = { ...registrySpec, name, image, network, volume };
        const r = run(
          containerScript(spec, { probeUrl, secretEnv: { REGISTRY_PROXY_PASSWORD: password } }),
        );
        expect(r.status).toBe(0);
        const dockerRun = r.calls.find((x) => x.argv[0] === "run")!;
        const arg = (flag: string) => dockerRun.argv[dockerRun.argv.indexOf(flag) + 1];
        expect(arg("--name")).toBe(name);
        expect(arg("--network")).toBe(network);
        expect(arg("--volume")).toBe(`${volume}:/var/lib/registry`);
        expect(dockerRun.argv.at(-1)).toBe(image);
        expect(dockerRun.envValues!["REGISTRY_PROXY_PASSWORD"]).toBe(password);
        expect(dockerRun.argv).toHaveLength(23);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});

describe("the script files", () => {
  const dir = path.resolve(__dirname, "../../../components/scripts");
  const all = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
    .join("\n");

  it("spell the labels, the data path and certs.d as the TypeScript side does", () => {
    for (const literal of [
      `"${LABEL_MANAGED}"`,
      `"${LABEL_SPEC}"`,
      `${LABEL_MANAGED}=true`,
      `${LABEL_ROLE}=$ROLE`,
      `${LABEL_UPSTREAM}=$UPSTREAM`,
      `$VOLUME:${REGISTRY_DATA_PATH}`,
      `${CERTS_D}/$1`,
      `sh ${CERTS_D} "$@"`,
      `manifest=$d/${HOSTS_MANIFEST}`,
    ]) {
      expect(all).toContain(literal);
    }
    expect(UNMANAGED_HOSTS_FILES_SCRIPT).toContain(`${CERTS_D}/${HOSTS_MANIFEST}`);
  });

  it("use no dev.pulumi-kind-dev label the TypeScript side does not know", () => {
    const labels = new Set(all.match(/dev\.pulumi-kind-dev\.[a-z]+/g));
    expect([...labels].sort()).toEqual(
      [LABEL_MANAGED, LABEL_ROLE, LABEL_SPEC, LABEL_UPSTREAM].sort(),
    );
  });
});
