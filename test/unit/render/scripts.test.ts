import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CERTS_D, HOSTS_MANIFEST } from "../../../components/render/containerd";
import { parseHostsList } from "../../../components/doctor/parse";
import {
  cacheContainerSpec,
  describeSettings,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_ROLE,
  LABEL_SETTINGS,
  LABEL_REPAIR,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  REGISTRY_DATA_PATH,
  registryContainerSpec,
  specHash,
} from "../../../components/render/containerSpecs";
import type { HostsFile } from "../../../components/render/hostsToml";
import {
  clusterScript,
  hostsEnvironment,
  hostsFileEnvName,
  hostsScript,
  networkScript,
  publishArg,
  registryContainerLines,
  registryContainerScript,
  type Script,
  scriptSteps,
  stepLine,
} from "../../../components/scripts";
import type { ContainerSpec } from "../../../components/render/containerSpecs";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";
import { acts, fakeId, scriptHarness, seed } from "./harness";

/** The component's script for a container, with SPEC set to `fingerprint` when given. */
function containerScript(
  spec: ContainerSpec,
  options: {
    probeUrl?: string;
    fingerprint?: string;
    secretEnv?: Record<string, string>;
    removeOnDelete?: boolean;
    owner?: string;
  } = {},
): Script {
  const script = registryContainerScript({
    spec,
    probeUrl: options.probeUrl,
    secretEnv: options.secretEnv ?? {},
    state: "absent",
    removeOnDelete: options.removeOnDelete ?? false,
    ...(options.owner === undefined ? {} : { owner: options.owner }),
  });
  return options.fingerprint === undefined
    ? script
    : { ...script, environment: { ...script.environment, SPEC: options.fingerprint } };
}

const h = scriptHarness();
const run = h.run;

describe("the command line of a step", () => {
  const SCRIPTS_FILES = path.resolve(__dirname, "../../../components/scripts");
  const read = (file: string) => fs.readFileSync(path.join(SCRIPTS_FILES, `${file}.sh`), "utf8");
  /**
   * The text of scripts/FILE.sh as a step runs it: `set -eu`, lib.sh, with `node` the function
   * node_script that prints hosts-node.sh, then the file.
   */
  const text = (file: string, node = false) =>
    `set -eu\n${read("lib")}\n${node ? `node_script() {\n  cat <<'KIND_DEV_NODE_SCRIPT'\n${read("hosts-node")}KIND_DEV_NODE_SCRIPT\n}\n` : ""}${read(file)}`;
  /** `/bin/sh -c LINE`, as the command provider runs a step. */
  const sh = (line: string, environment: Record<string, string>) =>
    spawnSync("/bin/sh", ["-c", line], {
      env: { PATH: h.bin(), ...environment },
      encoding: "utf8",
    });

  it.each([
    ["create", "registry-ensure", 'exec /bin/sh -c "${KIND_DEV_CREATE:?}" registry-ensure.sh'],
    ["update", "cluster-update", 'exec /bin/sh -c "${KIND_DEV_UPDATE:?}" cluster-update.sh'],
    ["delete", "hosts-clear", 'exec /bin/sh -c "${KIND_DEV_DELETE:?}" hosts-clear.sh'],
  ] as const)("runs the %s step of %s.sh as %s", (step, file, line) => {
    expect(stepLine(step, file)).toBe(line);
  });

  it("is short and names its script file, whose text the environment carries, for every script", () => {
    const scripts: [string, Script, Partial<Record<"create" | "update" | "delete", string>>][] = [
      [
        "network",
        networkScript("kind", true),
        { create: "network-ensure", delete: "network-remove" },
      ],
      [
        "registry",
        containerScript(registryContainerSpec(REGISTRY_INPUT), { removeOnDelete: true }),
        { create: "registry-ensure", delete: "registry-remove" },
      ],
      [
        "cluster",
        clusterScript("dev", "kind", "kind: Cluster\n"),
        { create: "cluster-create", update: "cluster-update", delete: "cluster-delete" },
      ],
      ["hosts.toml", hostsScript("n", []), { create: "hosts-sync", delete: "hosts-clear" }],
    ];
    for (const [what, script, files] of scripts) {
      for (const step of ["create", "update", "delete"] as const) {
        const file = files[step];
        const variable = `KIND_DEV_${step.toUpperCase()}`;
        if (file === undefined) {
          expect(script[step], `${what} ${step}`).toBeUndefined();
          expect(script.environment, `${what} ${step}`).not.toHaveProperty(variable);
          continue;
        }
        expect(script[step], `${what} ${step}`).toBe(
          `exec /bin/sh -c "\${${variable}:?}" ${file}.sh`,
        );
        expect(script[step]!.length).toBeLessThan(100);
        expect(fs.existsSync(path.join(SCRIPTS_FILES, `${file}.sh`))).toBe(true);
        expect(script.environment[variable], `${what} ${step}`).toBe(
          text(file, what === "hosts.toml"),
        );
      }
    }
  });

  it("has the same lines for a registry whatever its environment", () => {
    expect(registryContainerLines(true)).toEqual({
      create: 'exec /bin/sh -c "${KIND_DEV_CREATE:?}" registry-ensure.sh',
      delete: 'exec /bin/sh -c "${KIND_DEV_DELETE:?}" registry-remove.sh',
    });
    expect(registryContainerLines(false)).toEqual({
      create: 'exec /bin/sh -c "${KIND_DEV_CREATE:?}" registry-ensure.sh',
    });
  });

  const line = stepLine("create", "x");

  it("passes the script's exit status on", () => {
    const r = sh(line, { KIND_DEV_CREATE: "set -eu\necho started >&2\nexit 7\necho after\n" });
    expect([r.status, r.stdout, r.stderr]).toEqual([7, "", "started\n"]);
  });

  it("stops at the first command that fails (set -e)", () => {
    const r = sh(line, { KIND_DEV_CREATE: "set -eu\necho before\nfalse\necho after\n" });
    expect([r.status, r.stdout, r.stderr]).toEqual([1, "before\n", ""]);
  });

  it("fails on an unset variable, naming the script and its line (set -u)", () => {
    const r = sh(line, { KIND_DEV_CREATE: 'set -eu\necho "$NOT_SET"\necho after\n' });
    expect([r.status, r.stdout, r.stderr]).toEqual([
      2,
      "",
      "x.sh: 2: NOT_SET: parameter not set\n",
    ]);
  });

  it("names the script in the shell's own errors", () => {
    const r = sh(line, { KIND_DEV_CREATE: "set -eu\nno-such-command\necho after\n" });
    expect([r.status, r.stdout, r.stderr]).toEqual([
      127,
      "",
      "x.sh: 2: no-such-command: not found\n",
    ]);
  });

  it("fails, running nothing, when the variable is missing or empty", () => {
    const environments: Record<string, string>[] = [{}, { KIND_DEV_CREATE: "" }];
    for (const environment of environments) {
      const r = sh(line, environment);
      expect([r.status, r.stdout, r.stderr]).toEqual([
        2,
        "",
        "/bin/sh: 1: KIND_DEV_CREATE: parameter not set or null\n",
      ]);
    }
  });

  it("runs the text as written: quotes, substitutions, here-documents, an EXIT trap", () => {
    const script = [
      "set -eu",
      "trap 'echo trap ran' EXIT",
      `v="a \\"quoted\\" $(echo 'sub') \`echo tick\`"`,
      'printf "%s\\n" "$v" "$0"',
      "cat <<'END'",
      "$HOME ${X:-} `x` \\",
      "END",
      "",
    ].join("\n");
    const r = sh(line, { KIND_DEV_CREATE: script });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('a "quoted" sub tick\nx.sh\n$HOME ${X:-} `x` \\\ntrap ran\n');
  });

  it("refuses a value that would take the name of a step's variable", () => {
    for (const variable of ["KIND_DEV_CREATE", "KIND_DEV_UPDATE", "KIND_DEV_DELETE"]) {
      expect(() => scriptSteps({ create: "network-ensure" }, { [variable]: "x" })).toThrow(
        `the environment variable ${variable} carries a script and cannot be set`,
      );
    }
  });
});

describe("preflight", () => {
  it("fails with a clear message when docker is not on PATH", () => {
    h.withoutTool("docker");
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
    h.withoutTool("kind");
    const r = run(clusterScript("dev", "kind", "kind: Cluster\n"));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry\n",
    );
  });
});

const NETWORK_LS = ["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"];

describe("network", () => {
  it("creates the network, with this package's label, when none has that exact name", () => {
    const r = run(networkScript("kind", false));
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      ["network", "create", "--label", "dev.pulumi-kind-dev.managed=true", "kind"],
    ]);
    expect(r.stderr).toBe("pulumi-kind-dev: created docker network kind\n");
    expect(h.engine().networks.find((n) => n.name === "kind")!.labels).toEqual({
      [LABEL_MANAGED]: "true",
    });
  });

  it("reuses an existing network, whoever made it", () => {
    const r = run(networkScript("kind", false), "create", {
      FAKE_NETWORK_EXISTS: "1",
      FAKE_NETWORK_MANAGED: "",
    });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv.slice(0, 3))).toEqual([
      ["info"],
      NETWORK_LS.slice(0, 3),
      ["network", "inspect", "--format"],
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: using existing docker network kind (not created by pulumi-kind-dev, so never removed by it)\n",
    );
    h.resetEngine();
    const own = run(networkScript("kind", false), "create", { FAKE_NETWORK_EXISTS: "1" });
    expect(own.stderr).toBe("pulumi-kind-dev: using existing docker network kind\n");
  });

  it("has a delete step only when the network is not retained; it removes its own network by ID", () => {
    expect(networkScript("kind", false).delete).toBeUndefined();
    const id = fakeId("1a");
    const r = run(networkScript("kind", true), "delete", {
      ...seed({ networks: [{ id, name: "kind", labels: { [LABEL_MANAGED]: "true" } }] }),
    });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      ["network", "inspect", "--format", '{{index .Labels "dev.pulumi-kind-dev.managed"}}', id],
      ["network", "rm", id],
    ]);
    expect(r.stderr).toBe("pulumi-kind-dev: removed docker network kind\n");
  });

  it("keeps a network that this package did not create (kind's, another tool's)", () => {
    const r = run(networkScript("kind", true), "delete", {
      FAKE_NETWORK_EXISTS: "1",
      FAKE_NETWORK_MANAGED: "",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: kept docker network kind: pulumi-kind-dev did not create it (kind or another tool did, or an earlier version of this package), so it is not this stack's to remove. Remove it by hand (docker network rm kind) once nothing uses it.\n",
    );
  });

  it("keeps a network that containers are still attached to, and one already gone is fine", () => {
    const inUse = run(networkScript("kind", true), "delete", {
      ...seed({
        networks: [{ name: "kind", labels: { [LABEL_MANAGED]: "true" } }],
        containers: [{ name: "dev-control-plane", networks: ["kind"] }],
      }),
    });
    expect(inUse.status).toBe(0);
    expect(inUse.stderr).toBe(
      "pulumi-kind-dev: kept docker network kind: containers are still attached to it (docker network inspect kind)\n",
    );
    expect(h.engine().networks.map((n) => n.name)).toContain("kind");
    h.resetEngine();
    const gone = run(networkScript("kind", true), "delete");
    expect(gone.status).toBe(0);
    expect(gone.stderr).toBe("pulumi-kind-dev: docker network kind is already gone\n");
  });
});

describe("cluster", () => {
  const config = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: "dev"\n';
  const kindCalls = (r: { calls: { tool: string; argv: string[] }[] }) =>
    r.calls.filter((c) => c.tool === "kind").map((c) => c.argv.slice(0, 4));

  it("pulls a node image the stack names before kind runs; one that cannot be pulled is one line", () => {
    const present = run(clusterScript("dev", "kind", config, "kindest/node:v1.34.0"), "create", {
      FAKE_IMAGES: "kindest/node:v1.34.0",
    });
    expect(present.status).toBe(0);
    expect(present.calls.filter((c) => c.argv[0] === "pull")).toEqual([]);
    h.resetEngine();
    const pulled = run(clusterScript("dev", "kind", config, "kindest/node:v1.34.0"), "create", {
      FAKE_IMAGES: "",
    });
    expect(pulled.status).toBe(0);
    expect(pulled.calls.find((c) => c.argv[0] === "pull")!.argv).toEqual([
      "pull",
      "--quiet",
      "kindest/node:v1.34.0",
    ]);
    h.resetEngine();
    const missing = run(clusterScript("dev", "kind", config, "kindest/node:v0.0.1"), "create", {
      FAKE_IMAGES: "",
      FAKE_PULL_EXIT: "1",
    });
    expect(missing.status).toBe(1);
    expect(kindCalls(missing)).toEqual([["get", "clusters"]]);
    expect(missing.stderr).toBe(
      "pulumi-kind-dev: the node image kindest/node:v0.0.1 is not on this machine and could not be pulled (Error response from daemon: pull access denied for kindest/node:v0.0.1, repository does not exist or may require 'docker login'). Check nodeImage (kind's release notes list the images for each release), then run pulumi up again.\n",
    );
  });

  it("creates the cluster from the rendered config; kind's output goes to a log, not stdout", () => {
    const r = run(clusterScript("dev", "kind", config));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(kindCalls(r)).toEqual([
      ["get", "clusters"],
      ["create", "cluster", "--name", "dev"],
    ]);
    expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(config);
    const log = h.statePath("kind-create-dev.log");
    expect(r.stderr).toBe(
      `pulumi-kind-dev: created the kind cluster dev (kind's output: ${log})\n`,
    );
    expect(fs.readFileSync(log, "utf8")).toContain(" • kind progress line 18 ...\n");
  });

  it("refuses to take over a cluster of the same name", () => {
    const r = run(clusterScript("dev", "kind", config), "create", {
      FAKE_KIND_CLUSTERS: "other\ndev\n",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: a kind cluster named dev already exists and is not in this stack; delete it (kind delete cluster --name dev) or choose another clusterName\n",
    );
    expect(acts(r.calls)).toEqual([]);
  });

  it("leaves no marker and no lock once the cluster is created", () => {
    const r = run(clusterScript("dev", "kind", config));
    expect(r.status).toBe(0);
    expect(fs.readdirSync(h.statePath(""))).toEqual(["kind-create-dev.log", "locks"]);
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("when kind fails: removes the marker, prints kind's last lines and one line naming the log", () => {
    const r = run(clusterScript("dev", "kind", config), "create", { FAKE_KIND_EXIT: "1" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const log = h.statePath("kind-create-dev.log");
    expect(r.stderr).toBe(
      "   • kind progress line 15 ...\n" +
        "   • kind progress line 16 ...\n" +
        "   • kind progress line 17 ...\n" +
        "   • kind progress line 18 ...\n" +
        '  ERROR: failed to create cluster: could not find a log line that matches "Reached target .*Multi-User System.*"\n' +
        `pulumi-kind-dev: could not create the kind cluster dev: kind exited 1 (its last lines above; all of them in ${log}). Fix what it reports, then run pulumi up again; kind removed what it had made.\n`,
    );
    expect(fs.readFileSync(log, "utf8").split("\n")).toHaveLength(21);
    expect(fs.readdirSync(h.statePath(""))).toEqual(["kind-create-dev.log", "locks"]);
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("on update (only the script text changed) leaves an existing cluster as it is", () => {
    const r = run(clusterScript("dev", "kind", config), "update", { FAKE_KIND_CLUSTERS: "dev\n" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["get", "clusters"]]);
    expect(r.stderr).toBe("pulumi-kind-dev: kind cluster dev unchanged\n");
  });

  it("on update fails when the cluster is gone, saying how to make it again", () => {
    const r = run(clusterScript("dev", "kind", config), "update", {
      FAKE_KIND_CLUSTERS: "other\n",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind cluster dev is gone (deleted outside Pulumi?); run: pulumi up --replace on the cluster resource\n",
    );
  });

  it("deletes the cluster by name, and fails when docker or kind does", () => {
    const r = run(clusterScript("dev", "kind", config), "delete");
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => [c.tool, ...c.argv])).toEqual([
      ["docker", "info"],
      ["kind", "delete", "cluster", "--name", "dev"],
    ]);
    const down = run(clusterScript("dev", "kind", config), "delete", { FAKE_DOCKER_DOWN: "1" });
    expect(down.status).toBe(1);
    expect(down.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n",
    );
    const failed = run(clusterScript("dev", "kind", config), "delete", { FAKE_KIND_EXIT: "1" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe(
      'Deleting cluster "dev" ...\n' +
        "pulumi-kind-dev: could not delete the kind cluster dev (see kind's error above); run pulumi destroy again once it is fixed\n",
    );
  });

  it("hands kind the config byte for byte whatever it contains (property)", () => {
    const value = fc.string({ unit: "binary", maxLength: 60 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(value, (kindConfig) => {
        h.resetEngine();
        const r = run(clusterScript("dev", "kind", kindConfig));
        expect(r.status).toBe(0);
        expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(kindConfig);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
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
      h.resetEngine();
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
        h.resetEngine();
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
    root = fs.mkdtempSync(path.join(h.stateHome(), "node-"));
    certs = path.join(root, "certs.d");
  });

  /** Runs hosts-node.sh as the node's `sh -c` does, on `certs` instead of /etc/containerd/certs.d. */
  function inNode(...pairs: string[]) {
    return spawnSync("/bin/sh", ["-c", NODE_SCRIPT, "sh", certs, ...pairs], {
      env: { PATH: h.bin() },
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
        env: { PATH: h.bin() },
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
        env: { PATH: h.bin() },
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
  /** The registry's network exists: the network command runs first. */
  const NET = { FAKE_NETWORK_EXISTS: "1" };
  const OLD = fakeId("0d");
  const PS = ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"];
  const MANAGED = '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}';

  /** A container of this package named and labelled as the script makes it. */
  function madeByScript(
    spec: ContainerSpec,
    labels: Record<string, string> = {},
    over: { image?: string; running?: boolean; env?: string[] } = {},
  ) {
    return {
      id: OLD,
      name: spec.name,
      image: over.image ?? spec.image,
      labels: {
        [LABEL_MANAGED]: "true",
        [LABEL_ROLE]: spec.role,
        [LABEL_SPEC]: specHash(spec),
        ...labels,
      },
      env: over.env ?? [],
      running: over.running ?? true,
      networks: [spec.network],
      volumes: [spec.volume],
    };
  }
  /** The network and the volume, both this package's, and these containers. */
  function world(spec: ContainerSpec, containers: ReturnType<typeof madeByScript>[]) {
    return seed({
      networks: [{ name: spec.network, labels: { [LABEL_MANAGED]: "true" } }],
      volumes: [{ name: spec.volume, labels: { [LABEL_MANAGED]: "true" } }],
      containers,
    });
  }

  it.each([
    ["0.0.0.0", "0.0.0.0:5001"],
    ["192.168.1.20", "192.168.1.20:5001"],
    ["::", "[::]:5001"],
  ])("warns what a registry published on %s exposes, and how to restrict it", (hostIp, bound) => {
    const spec = registryContainerSpec({ ...REGISTRY_INPUT, hostIp });
    const r = run(containerScript(spec, { probeUrl }), "create", NET);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      `pulumi-kind-dev: warning: the registry kind-registry is published on ${bound}, not only on this machine: anyone who reaches it can push, pull and delete images (no authentication, deletes enabled). Set bindAddress to 127.0.0.1 (the default) unless other machines must reach it, and then let a firewall admit only those.\n`,
    );
  });

  it.each(["127.0.0.1", "::1"])("says nothing of exposure on loopback (%s)", (hostIp) => {
    const spec = registryContainerSpec({ ...REGISTRY_INPUT, hostIp });
    const r = run(containerScript(spec, { probeUrl }), "create", NET);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain("warning");
  });

  it("starts the registry on its volume with labels, publishes loopback, waits for /v2/", () => {
    const r = run(containerScript(registrySpec, { probeUrl, owner: "proj/dev" }), "create", NET);
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      PS,
      ["image", "inspect", "registry:3"],
      ["volume", "ls", "--quiet"],
      ["volume", "create", "--label", "dev.pulumi-kind-dev.managed=true", "kind-registry-data"],
      [
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
        "--label",
        "dev.pulumi-kind-dev.repair=ok",
        "--label",
        "dev.pulumi-kind-dev.owner=proj/dev",
        "--label",
        "dev.pulumi-kind-dev.settings=image=registry:3 network=kind volume=kind-registry-data publish=127.0.0.1:5001:5000 env.REGISTRY_STORAGE_DELETE_ENABLED=true",
        "--publish",
        "127.0.0.1:5001:5000",
        "--env",
        "REGISTRY_STORAGE_DELETE_ENABLED",
        "registry:3",
      ],
      PS,
    ]);
    expect(r.calls.at(-2)!.envValues).toEqual({ REGISTRY_STORAGE_DELETE_ENABLED: "true" });
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("keeps a running container of this package with the same configuration (adoption)", () => {
    const r = run(registry(), "create", world(registrySpec, [madeByScript(registrySpec)]));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    expect(r.calls.filter((c) => c.argv[0] === "container").map((c) => c.argv)).toEqual([
      ["container", "inspect", "--format", MANAGED, OLD],
      ["container", "inspect", "--format", "{{.Config.Image}}", OLD],
      [
        "container",
        "inspect",
        "--format",
        '{{index .Config.Labels "dev.pulumi-kind-dev.spec"}}',
        OLD,
      ],
      ["container", "inspect", "--format", "{{.State.Running}}", OLD],
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: using the existing registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
  });

  it("starts a stopped container of this package instead of replacing it", () => {
    const stopped = madeByScript(registrySpec, {}, { running: false });
    const r = run(registry(), "create", world(registrySpec, [stopped]));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([["start", OLD]]);
    expect(r.stderr).toContain("started the existing registry container kind-registry");
  });

  it("checks a cache it restarted, and names the URL it could not reach", () => {
    const stopped = madeByScript(
      cacheSpec,
      { [LABEL_SPEC]: specHash(cacheSpec, ["REGISTRY_PROXY_PASSWORD"]) },
      { running: false, env: [`REGISTRY_PROXY_PASSWORD=${secret.REGISTRY_PROXY_PASSWORD}`] },
    );
    const r = run(cache(), "create", {
      ...world(cacheSpec, [stopped]),
      FAKE_RESTARTS_AFTER_START: "2",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([["start", OLD]]);
    expect(r.calls.at(-1)!.argv).toEqual([
      "container",
      "inspect",
      "--format",
      "{{.State.Running}} {{.RestartCount}}",
      OLD,
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the existing cache container kind-cache-docker-io; data on volume kind-cache-docker-io-data\n" +
        "pulumi-kind-dev: warning: cache kind-cache-docker-io is restarting: the registry exits at start while its upstream https://registry-1.docker.io does not answer. Until it does, nodes pull from docker.io directly; see 'docker logs kind-cache-docker-io'\n",
    );
  });

  it("makes a container again whose first start failed", () => {
    const stopped = madeByScript(registrySpec, {}, { running: false });
    const r = run(registry(), "create", {
      ...world(registrySpec, [stopped]),
      FAKE_START_EXIT: "1",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 3))).toEqual([
      ["start", OLD],
      ["rm", "-f", OLD],
      ["run", "--detach", "--name"],
    ]);
    expect(h.engine().containers.map((c) => c.running)).toEqual([true]);
  });

  it("removes what a failed docker run left behind, by its ID, and the volume it made, and fails", () => {
    const r = run(registry(), "create", { ...NET, FAKE_RUN_EXIT: "125" });
    expect(r.status).toBe(1);
    const removed = r.calls.at(-2)!.argv;
    expect(removed.slice(0, 2)).toEqual(["rm", "-f"]);
    expect(removed[2]).toMatch(/^[0-9a-f]{64}$/);
    expect(r.calls.at(-1)!.argv).toEqual(["volume", "rm", "kind-registry-data"]);
    expect(h.engine().containers).toEqual([]);
    expect(h.engine().volumes).toEqual([]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: could not start the registry container kind-registry: docker: Error response from daemon: driver failed programming external connectivity.\n",
    );
  });

  it.each([
    [
      "another program",
      "docker: Error response from daemon: driver failed programming external connectivity on endpoint kind-registry (0123): Error starting userland proxy: listen tcp4 127.0.0.1:5001: bind: address already in use.",
    ],
    [
      "another container",
      "docker: Error response from daemon: driver failed programming external connectivity on endpoint kind-registry (0123): Bind for 127.0.0.1:5001 failed: port is already allocated.",
    ],
  ])("names the port and the setting when %s holds the registry's port", (_who, error) => {
    const r = run(registry(), "create", { ...NET, FAKE_RUN_EXIT: "125", FAKE_RUN_ERROR: error });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: port 5001 on 127.0.0.1 is taken by another program, so the registry kind-registry cannot publish it. Stop that program or set registryPort to a free port.\n",
    );
    expect(h.engine().containers).toEqual([]);
  });

  it("reuses a volume of its own and refuses anyone else's", () => {
    const own = run(registry(), "create", {
      ...NET,
      FAKE_VOLUME_EXISTS: "1",
      FAKE_VOLUME_MANAGED: "true",
    });
    expect(own.status).toBe(0);
    expect(acts(own.calls).map((a) => a[0])).toEqual(["run"]);
    h.resetEngine();
    const other = run(registry(), "create", { ...NET, FAKE_VOLUME_EXISTS: "1" });
    expect(other.status).toBe(1);
    expect(other.stderr).toBe(
      "pulumi-kind-dev: a volume named kind-registry-data already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone. Remove it (docker volume rm kind-registry-data) or choose another container name.\n",
    );
    expect(acts(other.calls)).toEqual([]);
  });

  it("replaces a container of this package whose configuration changed, keeping the volume", () => {
    const older = madeByScript(registrySpec, { [LABEL_SPEC]: "older" });
    const r = run(registry(), "create", world(registrySpec, [older]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 3))).toEqual([
      ["rm", "-f", OLD],
      ["run", "--detach", "--name"],
    ]);
    expect(r.stderr.split("\n")[0]).toBe(
      "pulumi-kind-dev: replacing the registry container kind-registry, whose configuration changed; data stays on volume kind-registry-data",
    );
    expect(h.engine().volumes.map((v) => v.name)).toEqual(["kind-registry-data"]);
  });

  it("says so when the replaced container ran another image: the upgrade from registry:2", () => {
    // A registry made by an earlier version of this package: its labels, registry:2, another
    // fingerprint, no owner.
    const r = run(registry(), "create", {
      ...NET,
      FAKE_CONTAINER_IMAGE: "registry:2",
      FAKE_CONTAINER_MANAGED: "true",
      FAKE_CONTAINER_SPEC: "made-by-an-earlier-version",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 2))).toEqual([
      ["volume", "create"],
      ["rm", "-f"],
      ["run", "--detach"],
    ]);
    expect(r.calls.find((c) => c.argv[0] === "run")!.argv.at(-1)).toBe("registry:3");
    expect(r.stderr).toBe(
      "pulumi-kind-dev: replacing the registry container kind-registry: image registry:2 -> registry:3; data stays on volume kind-registry-data. To keep registry:2, set registryImage: registry:2\n" +
        "pulumi-kind-dev: started the registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
  });

  it("names the images when a cache is replaced on another image, keeping its volume", () => {
    const old = madeByScript(cacheSpec, { [LABEL_SPEC]: "earlier" }, { image: "registry:2" });
    const r = run(cache(), "create", world(cacheSpec, [old]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).some((a) => a[0] === "volume")).toBe(false);
    expect(r.calls.find((c) => c.argv[0] === "run")!.argv.at(-1)).toBe("registry:3");
    expect(r.stderr).toBe(
      "pulumi-kind-dev: replacing the cache container kind-cache-docker-io: image registry:2 -> registry:3; data stays on volume kind-cache-docker-io-data. To keep registry:2, set registryImage: registry:2\n" +
        "pulumi-kind-dev: started the cache container kind-cache-docker-io; data on volume kind-cache-docker-io-data\n",
    );
  });

  it("keeps a registry:2 container whose fingerprint matches: registryImage registry:2 set", () => {
    const spec = registryContainerSpec({ ...REGISTRY_INPUT, image: "registry:2" });
    const r = run(containerScript(spec, { probeUrl }), "create", world(spec, [madeByScript(spec)]));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
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
        h.resetEngine();
        const spec = { ...registrySpec, image: wanted };
        const r = run(containerScript(spec, { probeUrl, fingerprint: "new" }), "create", {
          ...NET,
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
        expect(dockerRun.argv).toHaveLength(25);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("refuses a container of that name that this package did not create", () => {
    const r = run(registry(), "create", { ...NET, FAKE_CONTAINER_IMAGE: "nginx:latest" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: a container named kind-registry already exists (image nginx:latest) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f kind-registry) or choose another container name.\n",
    );
    expect(acts(r.calls)).toEqual([]);
  });

  it("fails with the registry's name when /v2/ never answers", () => {
    const c = registry();
    const r = run(
      { ...c, environment: { ...c.environment, PROBE_URL: probeUrl + "x", ATTEMPTS: "2" } },
      "create",
      NET,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `the registry kind-registry did not answer GET ${probeUrl}x after 2 tries; see 'docker logs kind-registry'`,
    );
  });

  it("passes cache credentials only through the environment", () => {
    const r = run(cache(), "create", NET);
    expect(r.status).toBe(0);
    const dockerRun = r.calls.find((c) => c.argv[0] === "run")!;
    expect(dockerRun.argv.join(" ")).not.toContain("s3cr3t");
    expect(dockerRun.envValues).toEqual({
      REGISTRY_PROXY_PASSWORD: secret.REGISTRY_PROXY_PASSWORD,
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(dockerRun.argv).toContain("dev.pulumi-kind-dev.upstream=docker.io");
    expect(dockerRun.argv).toContain(
      "dev.pulumi-kind-dev.settings=image=registry:3 network=kind volume=kind-cache-docker-io-data publish=none upstream=docker.io env.REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io env.REGISTRY_STORAGE_DELETE_ENABLED=true secret.REGISTRY_PROXY_PASSWORD=<secret>",
    );
    expect(dockerRun.argv).not.toContain("--publish");
    expect(r.stderr).not.toContain("s3cr3t");
    expect(r.stderr).not.toContain("warning");
  });

  it("warns, without failing, when a new cache keeps restarting", () => {
    const r = run(cache(), "create", { ...NET, FAKE_RESTARTS_AFTER_RUN: "3" });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      "pulumi-kind-dev: warning: cache kind-cache-docker-io is restarting: the registry exits at start while its upstream https://registry-1.docker.io does not answer. Until it does, nodes pull from docker.io directly",
    );
  });

  it("removes container and volume on delete, by ID and exact name, only when not retained", () => {
    expect(registry().delete).toBeUndefined();
    const net = fakeId("5e");
    const r = run(cache(), "delete", {
      ...seed({
        networks: [{ id: net, name: "kind", labels: { [LABEL_MANAGED]: "true" } }],
        volumes: [{ name: "kind-cache-docker-io-data", labels: { [LABEL_MANAGED]: "true" } }],
        containers: [{ ...madeByScript(cacheSpec), running: true }],
      }),
    });
    expect(r.status).toBe(0);
    // First: which kind nodes on its network (by the network's ID) could still pull through it.
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      [
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        "label=io.x-k8s.kind.cluster",
        "--filter",
        `network=${net}`,
        "--format",
        "{{.ID}}",
      ],
      PS,
      ["container", "inspect", "--format", MANAGED, OLD],
      ["rm", "-f", OLD],
      ["volume", "ls", "--quiet"],
      [
        "volume",
        "inspect",
        "--format",
        '{{index .Labels "dev.pulumi-kind-dev.managed"}}',
        "kind-cache-docker-io-data",
      ],
      ["volume", "rm", "kind-cache-docker-io-data"],
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: removed kind-cache-docker-io and its volume kind-cache-docker-io-data\n",
    );
    h.resetEngine();
    const again = run(cache(), "delete", NET);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe(
      "pulumi-kind-dev: kind-cache-docker-io and its volume kind-cache-docker-io-data were already gone\n",
    );
  });

  it("keeps a registry that another kind cluster pulls through, and counts a stopped node", () => {
    const node = (cluster: string, running: boolean, files: string) => ({
      name: `${cluster}-control-plane`,
      labels: { "io.x-k8s.kind.cluster": cluster },
      networks: ["kind"],
      running,
      files,
    });
    const r = run(cache(), "delete", {
      ...seed({
        networks: [{ name: "kind", labels: { [LABEL_MANAGED]: "true" } }],
        containers: [
          madeByScript(cacheSpec),
          node("other", true, '[host."http://kind-cache-docker-io:5000"]\n'),
          node("stopped", false, ""),
          node("unrelated", true, '[host."http://kind-cache-ghcr-io:5000"]\n'),
          node("own", true, '[host."http://kind-cache-docker-io:5000"]\n'),
        ],
      }),
      OWN_CLUSTER: "own",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls).filter((a) => a[0] !== "exec")).toEqual([]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: kept kind-cache-docker-io and its volume kind-cache-docker-io-data although retainOnDestroy is false: kind cluster(s) other stopped still pull through it. Destroy them first, or remove it by hand (docker rm -f kind-cache-docker-io && docker volume rm kind-cache-docker-io-data) once nothing uses it.\n",
    );
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
    // Docker allows no newline in a name: the scripts compare names line by line.
    const name = value.filter((s) => !s.includes("\n"));
    fc.assert(
      fc.property(name, value, name, value, value, (name, image, network, volume, password) => {
        h.resetEngine();
        const spec = { ...registrySpec, name, image, network, volume };
        const r = run(
          containerScript(spec, { probeUrl, secretEnv: { REGISTRY_PROXY_PASSWORD: password } }),
          "create",
          NET,
        );
        expect(r.status).toBe(0);
        const dockerRun = r.calls.find((x) => x.argv[0] === "run")!;
        const arg = (flag: string) => dockerRun.argv[dockerRun.argv.indexOf(flag) + 1];
        expect(arg("--name")).toBe(name);
        expect(arg("--network")).toBe(network);
        expect(arg("--volume")).toBe(`${volume}:/var/lib/registry`);
        expect(dockerRun.argv.at(-1)).toBe(image);
        expect(dockerRun.envValues!["REGISTRY_PROXY_PASSWORD"]).toBe(password);
        expect(dockerRun.argv).toHaveLength(27);
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
      `"${LABEL_OWNER}"`,
      `"${LABEL_SETTINGS}"`,
      `${LABEL_MANAGED}=true`,
      `${LABEL_ROLE}=$ROLE`,
      `${LABEL_OWNER}=$OWNER`,
      `${LABEL_SETTINGS}=$SETTINGS`,
      `${LABEL_UPSTREAM}=$UPSTREAM`,
      `$VOLUME:${REGISTRY_DATA_PATH}`,
      `sh ${CERTS_D} "$@"`,
      `sh ${CERTS_D} >/dev/null`,
      `manifest=$d/${HOSTS_MANIFEST}`,
    ]) {
      expect(all).toContain(literal);
    }
  });

  it("use no dev.pulumi-kind-dev label the TypeScript side does not know", () => {
    const labels = new Set(all.match(/dev\.pulumi-kind-dev\.[a-z]+/g));
    expect([...labels].sort()).toEqual(
      [
        LABEL_MANAGED,
        LABEL_ROLE,
        LABEL_SPEC,
        LABEL_UPSTREAM,
        LABEL_OWNER,
        LABEL_SETTINGS,
        LABEL_REPAIR,
      ].sort(),
    );
  });

  it("describe a container's settings in words the script can compare", () => {
    expect(describeSettings(registryContainerSpec(REGISTRY_INPUT))).toBe(
      "image=registry:3 network=kind volume=kind-registry-data publish=127.0.0.1:5001:5000 env.REGISTRY_STORAGE_DELETE_ENABLED=true",
    );
  });
});
