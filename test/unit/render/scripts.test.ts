import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  adoptContainerCommand,
  clusterCommand,
  hostsTomlCommand,
  networkCommand,
  type ShellCommand,
  waitForRegistryCommand,
} from "../../../components/render/scripts";

const FAKES = path.resolve(__dirname, "../fakes");
// Tools the scripts may use; every other command, docker and kind included, is absent unless
// the test puts a fake in place.
const TOOLS = ["sh", "cat", "mktemp", "rm", "grep", "sleep", "curl", "node", "mv", "mkdir"];

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
}

function run(
  cmd: ShellCommand,
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
    const r = run(networkCommand("kind", false));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the docker CLI is not on PATH; install Docker and retry\n",
    );
  });

  it("fails with a clear message when the daemon does not answer", () => {
    const r = run(hostsTomlCommand("n", "docker.io", "x"), "create", {
      FAKE_DOCKER_INFO_EXIT: "1",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n",
    );
    expect(r.calls.map((c) => c.argv[0])).toEqual(["info"]);
  });

  it("fails with a clear message when kind is not on PATH", () => {
    withoutTool("kind");
    const r = run(clusterCommand("dev", "kind", "kind: Cluster\n"));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry\n",
    );
  });
});

describe("network", () => {
  it("creates the network when it is absent", () => {
    const r = run(networkCommand("kind", false));
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      ["network", "inspect", "kind"],
      ["network", "create", "kind"],
    ]);
  });

  it("reuses an existing network", () => {
    const r = run(networkCommand("kind", false), "create", { FAKE_NETWORK_EXISTS: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["info"], ["network", "inspect", "kind"]]);
    expect(r.stderr).toContain("using existing docker network kind");
  });

  it("has a delete step only when the network is not retained", () => {
    expect(networkCommand("kind", false).delete).toBeUndefined();
    const r = run(networkCommand("kind", true), "delete", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["network", "rm", "kind"]]);
    expect(r.stderr).toContain("kept docker network kind: it is still in use or already gone");
  });
});

describe("adopt", () => {
  const cmd = adoptContainerCommand("kind-registry", "kind-registry-data");

  it("does nothing when no container has the name", () => {
    const r = run(cmd);
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv[0])).toEqual(["info", "container"]);
  });

  it("replaces a retained container of this package, keeping its volume", () => {
    const r = run(cmd, "create", {
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
    });
    expect(r.status).toBe(0);
    expect(r.calls.at(-1)!.argv).toEqual(["rm", "-f", "kind-registry"]);
    expect(r.calls.some((c) => c.argv.includes("volume"))).toBe(false);
    expect(r.stderr).toContain("its data stays on volume kind-registry-data");
  });

  it("refuses a container that this package did not create", () => {
    const r = run(cmd, "create", { FAKE_CONTAINER_IMAGE: "nginx:latest" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: a container named kind-registry already exists (image nginx:latest) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f kind-registry) or choose another container name.\n",
    );
    expect(r.calls.some((c) => c.argv[0] === "rm")).toBe(false);
  });

  it("reads the label this package sets", () => {
    const r = run(cmd, "create", {
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
    });
    const inspect = r.calls.filter((c) => c.argv[0] === "container");
    expect(inspect[1]!.argv).toEqual([
      "container",
      "inspect",
      "--format",
      '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}',
      "kind-registry",
    ]);
  });
});

describe("cluster", () => {
  const config = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: "dev"\n';

  it("creates the cluster from the rendered config and prints only the kubeconfig", () => {
    const r = run(clusterCommand("dev", "kind", config));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("kubeconfig-for-dev\n");
    const kind = r.calls.filter((c) => c.tool === "kind");
    expect(kind.map((c) => c.argv.slice(0, 4))).toEqual([
      ["get", "clusters"],
      ["create", "cluster", "--name", "dev"],
      ["get", "kubeconfig", "--name", "dev"],
    ]);
    expect(kind[1]!.config).toBe(config);
    expect(r.stderr).toContain("kind progress");
  });

  it("refuses to take over a cluster of the same name", () => {
    const r = run(clusterCommand("dev", "kind", config), "create", {
      FAKE_KIND_CLUSTERS: "other\ndev\n",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a kind cluster named dev already exists and is not in this stack");
    expect(r.calls.some((c) => c.argv[0] === "create")).toBe(false);
  });

  it("fails when kind fails", () => {
    const r = run(clusterCommand("dev", "kind", config), "create", { FAKE_KIND_EXIT: "1" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  it("deletes the cluster by name", () => {
    const r = run(clusterCommand("dev", "kind", config), "delete");
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["delete", "cluster", "--name", "dev"]]);
  });
});

describe("hosts.toml command", () => {
  it("pipes the file into the node and passes the directory as an argument", () => {
    const toml = '[host."http://kind-registry:5000"]\n';
    const r = run(hostsTomlCommand("dev-worker", "localhost:5001", toml));
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
    const r = run(hostsTomlCommand("dev-worker", "docker.io", "x"), "delete", {
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
        const r = run(hostsTomlCommand(node, hostDir, toml));
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
        const r = run(clusterCommand("dev", "kind", config));
        expect(r.status).toBe(0);
        expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(config);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

/** Like run(), without blocking the event loop, for scripts that talk to this process. */
function runAsync(cmd: ShellCommand): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", cmd.create], {
      env: { PATH: bin, FAKE_LOG: log, ...cmd.environment },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("registry readiness", () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url === "/v2/" ? 200 : 404;
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("returns once GET /v2/ answers", async () => {
    const r = await runAsync(waitForRegistryCommand("kind-registry", url, 5));
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`pulumi-kind-dev: registry kind-registry answers at ${url}\n`);
  });

  it("gives up after the given number of tries with a pointer to the logs", async () => {
    const dead = url.replace("/v2/", "/nothing/");
    const r = await runAsync(waitForRegistryCommand("kind-registry", dead, 2));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: the registry kind-registry did not answer GET ${dead} after 2 tries; see 'docker logs kind-registry'\n`,
    );
  });
});
