/**
 * The doctor's checks: each turns what facts.ts found about one thing into a verdict that says
 * what was found in one line and names the exact command that repairs it; verdicts `--fix` can
 * repair carry that repair as a command to run. judge.ts runs them.
 */
import { CERTS_D } from "../render/containerd";
import { LABEL_MANAGED, REGISTRY_CONTAINER_PORT } from "../render/containerSpecs";
import { type ExecResult, lastLine } from "../exec";
import type { HostsFile } from "../render/hostsToml";
import { hostsScript } from "../scripts";
import { type CacheTarget, type ClusterChoice, kepField, type RegistryTarget } from "./environment";
import {
  type ContainerInfo,
  type ContainerdRegistryConfig,
  formatBytes,
  type NodeCondition,
  parseKindVersion,
  parseKubectlVersion,
  plural,
} from "./parse";

export type CheckStatus = "pass" | "warn" | "fail";

export interface CheckResult {
  /**
   * Stable identifier: `area.check`, then `@subject` for per-container and per-node checks, e.g.
   * `registry.network`, `cache.running@kind-cache-docker-io`,
   * `node.hosts-toml@dev-worker/localhost:5001`.
   */
  readonly id: string;
  /** What was checked, in a few words. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, one line. */
  readonly detail: string;
  /** One line naming the exact command that repairs it; empty when the check passes. */
  readonly remedy: string;
  /**
   * Set when this check fails only because another one did (a pull fails because the node's
   * `hosts.toml` is missing): the id of that root check, whose remedy this one repeats.
   */
  readonly causedBy?: string;
}

/** A repair `--fix` may run: one command, with an optional environment. */
export interface Fix {
  /** What the repair does, for the report: `connected kind-registry to network kind`. */
  readonly description: string;
  readonly argv: readonly [string, ...string[]];
  /** Variables added to the doctor's environment for the command. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A check's result as the checks compute it, before causes are attributed. */
export interface Verdict extends CheckResult {
  /** Checks whose failure explains this one's. */
  readonly dependsOn?: readonly string[];
  /** Present when `--fix` can repair the fault safely and locally. */
  readonly fix?: Fix;
}

export interface FixOutcome {
  /** The check the repair was for. */
  readonly id: string;
  readonly description: string;
  readonly ok: boolean;
  /** The command's error when it failed. */
  readonly error?: string;
}

/** The narrowing flags, in the order the doctor's remedies repeat them. */
export const NARROWING = ["cluster", "registry", "kubeconfig"] as const;

/** `pulumi up --replace` of one of the component's commands, named by its logical name's end. */
const replace = (command: string) =>
  `pulumi up --replace '<URN of the <env>-${command} command, from pulumi stack --show-urns>'`;

/** Remedy for anything that needs the cluster made again by the component. */
export const RECREATE_CLUSTER = `recreate the cluster: ${replace("cluster")}`;

/** The verdicts of one check: its id, title and the checks it depends on are set once. */
function check(id: string, title: string, dependsOn?: readonly string[]) {
  const base = { id, title, ...(dependsOn === undefined ? {} : { dependsOn }) };
  const verdict =
    (status: "warn" | "fail") =>
    (detail: string, remedy: string, fix?: Fix): Verdict => ({
      ...base,
      status,
      detail,
      remedy,
      ...(fix === undefined ? {} : { fix }),
    });
  return {
    pass: (detail: string): Verdict => ({ ...base, status: "pass", detail, remedy: "" }),
    warn: verdict("warn"),
    fail: verdict("fail"),
  };
}

/** A check that could not be made because one it depends on failed (attributeCauses says so). */
export function notChecked(id: string, title: string, why: string, deps: readonly string[]) {
  return check(id, title, deps).fail(`not checked: ${why}`, "see the check it depends on");
}

// ---- tools --------------------------------------------------------------------------------

/**
 * Per tool, of its version command (facts.ts): how bad a missing or failing tool is, the detail
 * and remedy when it is missing, the detail's start and the remedy when it fails, and the
 * detail's start when it answers. Without kubectl the doctor uses the control plane's own.
 */
const TOOLS = {
  docker: {
    title: "Docker answers",
    status: "fail",
    version: (stdout: string) => stdout.trim() || undefined,
    missing: [
      "the docker CLI is not on PATH",
      "install Docker (https://docs.docker.com/engine/install/) and put docker on PATH",
    ],
    failed: ["the Docker daemon does not answer", "start Docker, then check with: docker info"],
    passed: "Docker engine",
  },
  kind: {
    title: "kind present",
    status: "fail",
    version: parseKindVersion,
    missing: [
      "the kind CLI is not on PATH",
      "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH",
    ],
    failed: ["kind version failed", "kind version"],
    passed: "kind",
  },
  kubectl: {
    title: "kubectl present",
    status: "warn",
    version: parseKubectlVersion,
    missing: [
      "kubectl is not on PATH; the doctor read the cluster with the control plane's own kubectl",
      "install kubectl (https://kubernetes.io/docs/tasks/tools/) to use the cluster from the host",
    ],
    failed: ["kubectl version --client failed", "kubectl version --client"],
    passed: "kubectl",
  },
} as const;

export function checkTool(id: keyof typeof TOOLS, r: ExecResult): Verdict {
  const tool = TOOLS[id];
  const v = check(id, tool.title);
  const version = r.code === 0 ? tool.version(r.stdout) : undefined;
  if (version !== undefined) {
    return v.pass(`${tool.passed} ${version}`);
  }
  const [detail, remedy] = r.missing ? tool.missing : tool.failed;
  return v[tool.status](r.missing ? detail : `${detail}: ${lastLine(r)}`, remedy);
}

// ---- cluster -------------------------------------------------------------------------------

/** The cluster chosen (or why none was), its nodes and its network. */
export function checkCluster(f: ClusterChoice & { nodes: readonly string[]; network?: string }) {
  const v = check("cluster", "kind cluster exists", ["docker", "kind"]);
  if (f.name === undefined) {
    return v.fail(
      f.problem ?? "no kind cluster",
      f.problem?.startsWith("several") === true
        ? "npx kind-dev doctor --cluster <name>"
        : `pulumi up (creates it; if the stack already has it: ${RECREATE_CLUSTER})`,
    );
  }
  if (f.nodes.length === 0) {
    return v.fail(
      `kind cluster ${f.name} has no node containers (kind get nodes --name ${f.name})`,
      RECREATE_CLUSTER,
    );
  }
  const on = f.network === undefined ? "" : ` on network ${f.network}`;
  return v.pass(`${f.name}: ${plural(f.nodes.length, "node")} (${f.nodes.join(", ")})${on}`);
}

/** Where the doctor's kubectl got its access to the cluster. */
export type KubeconfigSource =
  | { readonly from: "flag"; readonly file: string }
  | { readonly from: "kind" }
  | { readonly from: "control-plane"; readonly node: string; readonly kindError?: string }
  | { readonly from: "none"; readonly error: string };

export function checkKubeconfig(cluster: string, source: KubeconfigSource): Verdict {
  const v = check("kubeconfig", "kubeconfig for the cluster", ["cluster"]);
  const kind = `kind get kubeconfig --name ${cluster}`;
  switch (source.from) {
    case "flag":
      return v.pass(`--kubeconfig ${source.file}`);
    case "kind":
      return v.pass(kind);
    case "control-plane":
      return source.kindError === undefined
        ? v.pass(`the kubectl of ${source.node} (no kubectl on the host)`)
        : v.warn(
            `${kind} failed (${source.kindError}); read the cluster with the kubectl of ${source.node}`,
            `${kind} (or name a kubeconfig: --kubeconfig FILE)`,
          );
    case "none":
      return v.fail(`no way to read the cluster: ${source.error}`, kind);
    default: {
      const never: never = source;
      return never;
    }
  }
}

// ---- containers that must run: the registry, the caches, the nodes --------------------------

function describeState(c: ContainerInfo): string {
  return c.status === "exited" ? `exited (exit code ${c.exitCode})` : c.status;
}

type Texts = readonly [detail: string, remedy: string];

/**
 * What a running check says: when the container is gone, restarting (undefined: not told apart
 * from running), stopped (`startable`: --fix may start it), running.
 */
interface Running {
  readonly id: string;
  readonly title: string;
  readonly dependsOn: readonly string[];
  readonly gone: Texts;
  readonly restarting?: (c: ContainerInfo) => Texts;
  readonly stopped: (c: ContainerInfo) => string;
  readonly startable: boolean;
  readonly running: (c: ContainerInfo) => string;
}

type Roles = {
  registry: RegistryTarget;
  cache: CacheTarget;
  node: { readonly name: string; readonly container?: ContainerInfo };
};

/**
 * Each role's texts. `volumeExists` tells a container removed by hand (its volume, with the
 * images, is still there) from one removed with its volume.
 */
const RUNNING: {
  readonly [R in keyof Roles]: (t: Roles[R], volumeExists: boolean, log: string) => Running;
} = {
  registry: (r, volumeExists, log) => ({
    id: "registry.running",
    title: "push registry container runs",
    dependsOn: ["docker"],
    gone: volumeExists
      ? [
          `container ${r.name} (found by ${r.foundBy}) does not exist; its volume ${r.volume} is still there, with the images`,
          `pulumi up (creates ${r.name} again on ${r.volume}, images included)`,
        ]
      : [
          `container ${r.name} (found by ${r.foundBy}) does not exist, nor its volume ${r.volume}`,
          `${replace("registry")} (an empty registry)`,
        ],
    restarting: (c) => [
      `${c.name} is restarting (${c.restartCount} restarts)${log === "" ? "" : `: ${log}`}`,
      `docker logs ${c.name}`,
    ],
    stopped: (c) => `${c.name} is ${describeState(c)}`,
    startable: true,
    running: (c) =>
      `${c.name} (${c.image}), running since ${c.startedAt.replace(/\.\d+Z$/, "Z")}; found by ${r.foundBy}`,
  }),
  cache: (k, volumeExists, log) => {
    const meanwhile = `nodes pull ${k.upstreamHost} from ${k.remoteUrl} directly meanwhile`;
    return {
      id: `cache.running@${k.name}`,
      title: `cache ${k.name} runs`,
      dependsOn: ["docker"],
      gone: [
        `container ${k.name} (found by ${k.foundBy}) does not exist${
          volumeExists ? `; its volume ${k.volume} is still there` : ""
        }; ${meanwhile}`,
        volumeExists
          ? `pulumi up (creates ${k.name} again on ${k.volume})`
          : replace("cache-<host>"),
      ],
      restarting: (c) => [
        `${c.name} is restarting (${c.restartCount} restarts): a registry in proxy mode exits at start while its upstream ${k.remoteUrl} does not answer${
          log === "" ? "" : ` (${log})`
        }; nodes pull from the upstream directly meanwhile`,
        `make ${k.remoteUrl} answer, then check: docker logs ${c.name}`,
      ],
      stopped: (c) => `${c.name} is ${describeState(c)}; ${meanwhile}`,
      startable: true,
      running: (c) =>
        `${c.name} (${c.image}) caches ${k.upstreamHost} from ${k.remoteUrl}${
          c.restartCount > 0 ? `; restarted ${c.restartCount} times since it was created` : ""
        }`,
    };
  },
  node: (n) => ({
    id: `node.running@${n.name}`,
    title: `node ${n.name} runs`,
    dependsOn: ["cluster"],
    gone: [`container ${n.name} does not exist`, RECREATE_CLUSTER],
    stopped: (c) => `${n.name} is ${describeState(c)}`,
    startable: false,
    running: () => "running",
  }),
};

/** The registry, a cache or a node exists and runs. */
export function checkRunning<R extends keyof Roles>(
  role: R,
  target: Roles[R],
  volumeExists = false,
  lastLog = "",
): Verdict {
  const r = RUNNING[role](target, volumeExists, lastLog);
  const v = check(r.id, r.title, r.dependsOn);
  const c = target.container;
  if (c === undefined) {
    return v.fail(...r.gone);
  }
  if (r.restarting !== undefined && (c.restarting || c.status === "restarting")) {
    return v.fail(...r.restarting(c));
  }
  if (!c.running) {
    const start = ["docker", "start", c.name] as const;
    const fix = r.startable ? { description: `started ${c.name}`, argv: start } : undefined;
    return v.fail(r.stopped(c), start.join(" "), fix);
  }
  return v.pass(r.running(c));
}

// ---- registry ------------------------------------------------------------------------------

export function checkNoRegistry(network: string | undefined): Verdict {
  return check("registry.running", "push registry container runs", ["docker"]).fail(
    `no push registry found: no container labelled ${LABEL_MANAGED}=true and role registry${
      network === undefined ? "" : ` on network ${network}`
    }, and no ConfigMap or hosts.toml names one`,
    "pulumi up (or name it: npx kind-dev doctor --registry <container>)",
  );
}

export function checkRegistryLabel(c: ContainerInfo): Verdict {
  const v = check("registry.label", "registry made by pulumi-kind-dev", ["registry.running"]);
  if (c.labels[LABEL_MANAGED] !== "true") {
    return v.fail(
      `${c.name} lacks the label ${LABEL_MANAGED}=true: another tool made it (kind's shell script?), and pulumi up will not adopt it`,
      `docker rm -f ${c.name}, then pulumi up (push its images again), or set registryName to another name`,
    );
  }
  return v.pass(`${LABEL_MANAGED}=true`);
}

/** The registry or a cache is attached to the cluster's network. */
export function checkOnNetwork(
  id: string,
  title: string,
  c: ContainerInfo,
  network: string | undefined,
  dependsOn: readonly string[],
): Verdict {
  if (network === undefined) {
    return check(id, title, [...dependsOn, "cluster"]).fail(
      "not checked: no cluster, so no cluster network",
      "pulumi up",
    );
  }
  const v = check(id, title, dependsOn);
  if (!c.networks.includes(network)) {
    const connect = ["docker", "network", "connect", network, c.name] as const;
    return v.fail(
      `${c.name} is not on network ${network} (on: ${c.networks.join(", ") || "none"}): the nodes cannot reach it by name`,
      connect.join(" "),
      { description: `connected ${c.name} to network ${network}`, argv: connect },
    );
  }
  return v.pass(`on network ${network}`);
}

export function checkRegistryPublished(c: ContainerInfo): Verdict {
  const v = check("registry.published", "registry published on loopback only", [
    "registry.running",
  ]);
  const bindings = c.ports.filter((p) => p.containerPort === `${REGISTRY_CONTAINER_PORT}/tcp`);
  if (bindings.length === 0) {
    return v.fail(
      `${c.name} does not publish port ${REGISTRY_CONTAINER_PORT}: nothing on the host can push to it`,
      `docker rm -f ${c.name}, then pulumi up (creates it again on its volume, published)`,
    );
  }
  const shown = bindings.map((b) => `${b.hostIp === "" ? "0.0.0.0" : b.hostIp}:${b.hostPort}`);
  if (bindings.some((b) => !/^(127\.|::1$|localhost$)/.test(b.hostIp))) {
    return v.warn(
      `published on ${shown.join(", ")}: any machine that reaches this one can push and pull`,
      "set bindAddress: 127.0.0.1 (the default) and run pulumi up",
    );
  }
  return v.pass(`${shown.join(", ")} -> ${REGISTRY_CONTAINER_PORT}`);
}

export interface HttpProbe {
  readonly url: string;
  /** HTTP status, or undefined when nothing answered. */
  readonly status?: number;
  readonly error?: string;
}

export function checkRegistryApi(c: ContainerInfo, probe: HttpProbe | undefined): Verdict {
  // Off its only network, a container loses its published ports too.
  const v = check("registry.api", "registry answers GET /v2/ from the host", [
    "registry.running",
    "registry.published",
    "registry.network",
  ]);
  if (probe === undefined) {
    return v.fail("not checked: the registry publishes no port", `docker port ${c.name}`);
  }
  if (probe.status === 200) {
    return v.pass(`GET ${probe.url} -> 200`);
  }
  return v.fail(
    probe.status === undefined
      ? `GET ${probe.url}: ${probe.error ?? "no answer"}`
      : `GET ${probe.url} -> ${probe.status}, expected 200 (another program on that port?)`,
    `docker logs ${c.name} (and check what listens on the port: ss -ltnp)`,
  );
}

// ---- caches --------------------------------------------------------------------------------

/** `curl -w '%{http_code} %header{www-authenticate}' <remoteUrl>/v2/` run inside a node on the cache's network. */
export interface UpstreamProbe {
  /** The node the probe ran in; undefined when no node was running. */
  readonly node?: string;
  readonly result?: ExecResult;
}

export function checkCacheUpstream(
  cache: CacheTarget,
  network: string | undefined,
  probe: UpstreamProbe,
): Verdict {
  const v = check(`cache.upstream@${cache.name}`, `cache ${cache.name}'s upstream answers`, [
    "cluster",
  ]);
  const url = `${cache.remoteUrl.replace(/\/+$/, "")}/v2/`;
  if (probe.node === undefined || probe.result === undefined) {
    return v.warn(
      `not checked: no running node on network ${network ?? "(none)"} to probe ${url} from`,
      "pulumi up (the cluster's nodes are the probe's vantage point)",
    );
  }
  const r = probe.result;
  // "<status> <WWW-Authenticate>" (facts.ts); an older curl prints the second part literally.
  const [status = "", ...challenge] = r.stdout.trim().split(" ");
  const code = Number(status);
  if (r.code === 0 && code === 401 && /^basic\b/i.test(challenge.join(" "))) {
    // A password login (no token service): without one the cache can fetch nothing.
    const env = cache.container?.env ?? {};
    if (env["REGISTRY_PROXY_USERNAME"] === undefined && !env["REGISTRY_PROXY_EXEC_COMMAND"]) {
      const host = new URL(cache.remoteUrl).host;
      return v.fail(
        `${cache.name} has no login for ${cache.remoteUrl}, which answers 401 and asks for one: pulls of ${cache.upstreamHost} images through it fail`,
        `docker login ${host}, then give the cache for ${cache.upstreamHost} credentialsFromDocker: true (or username and password) and run pulumi up`,
      );
    }
    return v.pass(
      `GET ${url} -> 401 (a login), from ${probe.node}; the cache has ${
        env["REGISTRY_PROXY_USERNAME"] === undefined ? "a credential helper" : "one"
      }`,
    );
  }
  if (r.code === 0 && code > 0) {
    return v.pass(`GET ${url} -> ${code}, from ${probe.node}`);
  }
  if (r.missing || /executable file not found|not found in \$PATH/.test(r.stderr)) {
    return v.warn(
      `not checked: no curl in node ${probe.node}`,
      `docker exec ${probe.node} sh -c 'command -v curl'`,
    );
  }
  return v.warn(
    `GET ${url} from ${probe.node} (network ${network ?? "?"}): ${lastLine(r)}; the cache serves what it holds, new images cannot be fetched`,
    `docker exec ${probe.node} curl -sS -o /dev/null -w '%{http_code}\\n' ${url} (then fix the network, proxy or credentials on the way)`,
  );
}

// ---- nodes ---------------------------------------------------------------------------------

export function checkNodeReady(
  node: string,
  cluster: string,
  condition: NodeCondition | undefined,
  readError: string | undefined,
  containerRunning = true,
): Verdict {
  const v = check(`node.ready@${node}`, `node ${node} Ready`, [
    `node.running@${node}`,
    "cluster",
    "kubeconfig",
  ]);
  const kubectl = `kubectl --context kind-${cluster}`;
  if (!containerRunning) {
    // The API server keeps the last Ready=True until the node's heartbeat times out (40 s).
    return v.fail(
      `not Ready: its container is not running${condition?.ready === true ? " (the API server's Ready is stale)" : ""}`,
      `docker start ${node}`,
    );
  }
  if (readError !== undefined) {
    return v.fail(
      `could not read the nodes from the API server: ${readError}`,
      `${kubectl} get nodes`,
    );
  }
  if (condition === undefined) {
    return v.fail(`${node} is not registered with the API server`, `docker logs ${node}`);
  }
  if (!condition.ready) {
    return v.fail(
      `NotReady: ${condition.reason || "no reason given"}`,
      `${kubectl} wait --for=condition=Ready node/${node} --timeout=120s (if it stays NotReady: ${kubectl} describe node ${node})`,
    );
  }
  return v.pass(`Ready${condition.reason === "" ? "" : ` (${condition.reason})`}`);
}

export function checkContainerd(
  node: string,
  config: ContainerdRegistryConfig | undefined,
): Verdict {
  const v = check(`node.containerd@${node}`, `containerd on ${node} reads hosts.toml`, [
    `node.running@${node}`,
  ]);
  if (config === undefined) {
    return v.fail(
      "could not read /etc/containerd/config.toml",
      `docker exec ${node} cat /etc/containerd/config.toml`,
    );
  }
  if (config.legacy.length > 0) {
    return v.fail(
      `legacy ${config.legacy.join(", ")} next to config_path: containerd 2.2 fails to load its CRI plugin with both, and 2.4 removes them`,
      `${RECREATE_CLUSTER} (this package never writes registry.mirrors)`,
    );
  }
  const paths = config.configPaths;
  if (paths.length === 0) {
    return v.fail(
      `no config_path: containerd 2.0/2.1 ignore ${CERTS_D}/*/hosts.toml (containerd 2.2+ read it by default)`,
      `${RECREATE_CLUSTER} (the component's kind config sets config_path)`,
    );
  }
  if (paths.length > 1) {
    return v.fail(
      `${paths.length} config_path settings (${paths.map((p) => JSON.stringify(p)).join(", ")}): which one wins depends on the containerd version`,
      RECREATE_CLUSTER,
    );
  }
  const value = paths[0] ?? "";
  if (value === CERTS_D) {
    return v.pass(`config_path = "${CERTS_D}", no legacy registry.mirrors/configs`);
  }
  return value.split(":").includes(CERTS_D)
    ? v.warn(
        `config_path = ${JSON.stringify(value)}: several directories, a hosts.toml in another one may take precedence`,
        RECREATE_CLUSTER,
      )
    : v.fail(
        `config_path = ${JSON.stringify(value)}: the hosts.toml files in ${CERTS_D} are ignored`,
        RECREATE_CLUSTER,
      );
}

/**
 * The command the component runs for a node's `hosts.toml` files (scripts.ts hostsScript):
 * scripts/hosts-sync.sh with every file of the node in its environment, which writes the files
 * that differ and keeps the node's manifest of what it wrote.
 */
export function writeHostsCommand(node: string, files: readonly HostsFile[]): WriteCommand {
  const script = hostsScript(node, files);
  return { argv: ["sh", "-c", script.create], env: script.environment };
}

export type WriteCommand = Required<Pick<Fix, "argv" | "env">>;

function firstDifference(actual: string, expected: string): string {
  const a = actual.split("\n");
  const e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      return `line ${i + 1} is ${JSON.stringify(a[i] ?? "(end of file)")}, expected ${JSON.stringify(e[i] ?? "(end of file)")}`;
    }
  }
  return "differs";
}

/**
 * One `hosts.toml` on one node. `write`: the node's command (writeHostsCommand), when the doctor
 * knows every file the component renders (`--fix` writes them all, or none).
 */
export function checkHostsToml(
  node: string,
  hostDir: string,
  expected: string,
  actual: string | undefined,
  fixCommand: string,
  write?: WriteCommand,
): Verdict {
  const v = check(`node.hosts-toml@${node}/${hostDir}`, `${node} has hosts.toml for ${hostDir}`, [
    `node.running@${node}`,
  ]);
  const path = `${CERTS_D}/${hostDir}/hosts.toml`;
  const remedy =
    write === undefined
      ? "pulumi up (writes every hosts.toml the component renders)"
      : `${fixCommand} (writes the file the component renders)`;
  const fix = (what: string) =>
    write === undefined ? undefined : { description: `${what} ${path} on ${node}`, ...write };
  if (actual === undefined) {
    return v.fail(
      `missing ${path}: containerd on ${node} sends pulls of ${hostDir}/... to ${hostDir} itself`,
      remedy,
      fix("wrote"),
    );
  }
  if (actual !== expected) {
    return v.fail(`stale ${path}: ${firstDifference(actual, expected)}`, remedy, fix("rewrote"));
  }
  const endpoint = /\[host\."([^"]+)"\]/.exec(expected)?.[1];
  return v.pass(`as the component renders it${endpoint ? ` (-> ${endpoint})` : ""}`);
}

export function checkResolves(
  node: string,
  name: string,
  address: string | undefined,
  network: string | undefined,
  dependsOn: readonly string[],
): Verdict {
  const v = check(`node.resolve@${node}/${name}`, `${node} resolves ${name}`, [
    `node.running@${node}`,
    ...dependsOn,
  ]);
  if (address === undefined) {
    return v.fail(
      `${name} does not resolve inside ${node}`,
      network === undefined
        ? `docker inspect ${name}`
        : `docker network connect ${network} ${name}`,
    );
  }
  return v.pass(`${name} -> ${address}`);
}

export interface PullProbe {
  /** The image reference pulled; undefined when the probe image could not be pushed. */
  readonly image?: string;
  readonly pushError?: string;
  readonly result?: ExecResult;
  readonly seconds?: number;
}

export function checkPull(
  node: string,
  registryHostDir: string | undefined,
  probe: PullProbe,
): Verdict {
  const v = check(`node.pull@${node}`, `${node} pulls through hosts.toml`, [
    `node.running@${node}`,
    "registry.running",
    "registry.network",
    "registry.api",
    `node.containerd@${node}`,
    ...(registryHostDir === undefined ? [] : [`node.hosts-toml@${node}/${registryHostDir}`]),
  ]);
  if (probe.image === undefined || probe.result === undefined) {
    return v.fail(
      probe.pushError === undefined
        ? "not checked: the registry does not answer from the host, so no probe image"
        : `not checked: could not push the probe image: ${probe.pushError}`,
      "npx kind-dev doctor (after the registry checks pass)",
    );
  }
  if (probe.result.code !== 0) {
    return v.fail(
      `crictl pull ${probe.image}: ${lastLine(probe.result)}`,
      `docker exec ${node} crictl pull ${probe.image}`,
    );
  }
  const took = probe.seconds === undefined ? "" : ` in ${probe.seconds.toFixed(1)} s`;
  return v.pass(`crictl pull ${probe.image}${took}`);
}

// ---- ConfigMap and volumes -----------------------------------------------------------------

export interface ConfigMapFacts {
  /** `localRegistryHosting.v1`, or undefined when the ConfigMap does not exist. */
  readonly value?: string;
  /** Why it could not be read, other than NotFound. */
  readonly error?: string;
}

export function checkConfigMap(
  cluster: string,
  facts: ConfigMapFacts,
  expected: string | undefined,
): Verdict {
  const v = check("configmap", "ConfigMap kube-public/local-registry-hosting", [
    "cluster",
    "kubeconfig",
    "registry.running",
  ]);
  const remedy = "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)";
  if (facts.error !== undefined) {
    return v.fail(
      `could not read it: ${facts.error}`,
      `kubectl --context kind-${cluster} -n kube-public get configmap local-registry-hosting`,
    );
  }
  if (facts.value === undefined) {
    return v.fail(
      "does not exist: Tilt, Skaffold and ctlptl cannot discover the registry (KEP-1755)",
      remedy,
    );
  }
  if (expected === undefined) {
    return v.fail("not compared: the registry is unknown", "pulumi up");
  }
  if (facts.value !== expected) {
    return v.fail(`does not match the registry: ${firstDifference(facts.value, expected)}`, remedy);
  }
  const inCluster = kepField(expected, "hostFromClusterNetwork");
  return v.pass(`matches the registry (${kepField(expected, "host")}, ${inCluster})`);
}

export function checkVolume(
  volume: string,
  owner: string,
  exists: boolean,
  bytes: number | undefined,
): Verdict {
  const v = check(`volume@${volume}`, `disk used by ${volume}`, ["docker"]);
  if (!exists) {
    return v.warn(
      `${owner} uses no volume named ${volume}: its data lives in the container`,
      `docker inspect --format '{{json .Mounts}}' ${owner.split(" ").pop() ?? owner}`,
    );
  }
  if (bytes === undefined) {
    return v.warn(`${owner}: size unknown`, "docker system df -v");
  }
  return v.pass(`${formatBytes(bytes)} (${owner})`);
}
