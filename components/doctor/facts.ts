/**
 * The doctor's first step: every command it runs against docker, kind, kubectl and the nodes,
 * in parallel where one does not need another's answer, gathered into one plain JSON value.
 * Which cluster, registry and caches to probe is chosen from the facts by the same pure
 * function the judgement uses (environment.ts chooseTargets).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Exec, type ExecResult, lastLine } from "../exec";
import { CERTS_D } from "../render/containerd";
import { LABEL_MANAGED } from "../render/containerSpecs";
import { LOCAL_REGISTRY_HOSTING as CM } from "../render/localRegistryHosting";
import {
  checkTool,
  type ConfigMapFacts,
  type HttpProbe,
  type KubeconfigSource,
  type PullProbe,
  type UpstreamProbe,
} from "./checks";
import { chooseTargets, registryUrl, selectCluster } from "./environment";
import {
  type ContainerInfo,
  type NodeCondition,
  type NodeFiles,
  parseConfigMapValue,
  parseContainers,
  parseGetent,
  parseHostsList,
  parseLines,
  parseNodeConditions,
  parseVolumeSizes,
  tellingLine,
} from "./parse";
import {
  OCI_MANIFEST,
  ociArchitecture,
  PROBE_REPOSITORY,
  PROBE_TAG,
  probeImage,
} from "./probeImage";
import { pingUntil, type RegistryClient } from "./registryApi";

/** The flags that narrow what the doctor looks at. */
export interface Narrowing {
  /** kind cluster to check. Default: the only one, or the one whose network holds the registry. */
  readonly cluster?: string;
  /** Push registry container. Default: found by the package's labels. */
  readonly registry?: string;
  /** kubeconfig for kubectl. Default: `kind get kubeconfig --name <cluster>`. */
  readonly kubeconfig?: string;
}

/** Everything the doctor learnt, as plain data: judge() needs nothing else. */
export interface Facts {
  readonly requested: Narrowing;
  /** `docker version`, `kind version`, `kubectl version --client`. */
  readonly tools: Readonly<Record<"docker" | "kind" | "kubectl", ExecResult>>;
  /** Absent when Docker does not answer. */
  readonly found?: Found;
}

/** What docker, kind and kubectl list and the nodes hold: enough to choose the targets. */
export interface Listed {
  /** The containers labelled by this package, and the one named with --registry. */
  readonly containers: readonly ContainerInfo[];
  /** `kind get clusters`; empty when kind does not answer. */
  readonly clusters: readonly string[];
  /** Each kind cluster's node networks, read only when several clusters could be meant. */
  readonly clusterNetworks: Readonly<Record<string, readonly string[]>>;
  /** The chosen cluster's nodes, control plane first, and their containers. */
  readonly nodes: readonly string[];
  readonly nodeContainers: readonly ContainerInfo[];
  /** How kubectl reached the cluster; absent without a cluster. */
  readonly kubeconfig?: KubeconfigSource;
  /** `kubectl get nodes`: each node's Ready condition, or why the nodes could not be read. */
  readonly apiNodes:
    { readonly conditions: Readonly<Record<string, NodeCondition>> } | { readonly error: string };
  readonly configMap: ConfigMapFacts;
  /** `docker system df -v`: volume -> bytes, null when its size is unknown; null when docker could not tell. */
  readonly volumes: Readonly<Record<string, number | null>> | null;
  /** The files of each running node that could be read. */
  readonly nodeFiles: Readonly<Record<string, NodeFiles>>;
}

/** What the probes of the chosen registry, caches and nodes returned. */
export interface Probed {
  /** `GET /v2/` of the registry; absent when it does not run or publishes no port. */
  readonly registryApi?: HttpProbe;
  /** Container name -> the telling line of its log, for a registry or cache that restarts. */
  readonly logs: Readonly<Record<string, string>>;
  /** Cache name -> its upstream, probed from inside a node. */
  readonly upstreams: Readonly<Record<string, UpstreamProbe>>;
  /** Node -> name -> address, for the registry and cache names that resolve inside it. */
  readonly resolved: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Node -> the pull probe. */
  readonly pulls: Readonly<Record<string, PullProbe>>;
}

export type Found = Listed & Probed;

export type RegistryClientFactory = (baseUrl: string, timeoutMs: number) => RegistryClient;

const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
const NAMES = ["--format", "{{.Names}}"];
/** What the upstream probe prints; checkCacheUpstream reads it. */
const UPSTREAM_FORMAT = "%{http_code} %header{www-authenticate}";
const NOT_FOUND = /\(NotFound\)|not found/;

/** `docker container inspect`, parsed; no command for no names. */
export async function inspect(exec: Exec, names: readonly string[]): Promise<ContainerInfo[]> {
  return names.length === 0
    ? []
    : parseContainers((await exec("docker", ["container", "inspect", ...names])).stdout);
}

/**
 * Runs every command. `settle`: right after repairs, give a registry that was just started or
 * reconnected a few seconds to answer.
 */
export async function gather(
  requested: Narrowing,
  exec: Exec,
  client: RegistryClientFactory,
  { settle = false }: { readonly settle?: boolean } = {},
): Promise<Facts> {
  const [docker, kind, kubectl] = await Promise.all([
    exec("docker", ["version", "--format", "{{.Server.Version}}"]),
    exec("kind", ["version"]),
    exec("kubectl", ["version", "--client", "-o", "json"]),
  ]);
  const tools = { docker, kind, kubectl };
  if (checkTool("docker", docker).status === "fail") {
    return { requested, tools };
  }
  const volumes = readVolumeSizes(exec);
  const [containers, clusters] = await Promise.all([
    exec("docker", ["ps", "-a", "--filter", `label=${LABEL_MANAGED}=true`, ...NAMES]).then((r) => {
      const names = new Set(parseLines(r.stdout));
      if (requested.registry !== undefined) {
        names.add(requested.registry);
      }
      return inspect(exec, [...names].sort());
    }),
    checkTool("kind", kind).status === "pass"
      ? exec("kind", ["get", "clusters"]).then((r) => (r.code === 0 ? parseLines(r.stdout) : []))
      : [],
  ]);
  const clusterNetworks =
    requested.cluster === undefined && clusters.length > 1 ? await readClusterNetworks(exec) : {};
  const cluster = selectCluster(requested.cluster, clusters, clusterNetworks, containers).name;
  const nodes =
    cluster === undefined
      ? []
      : parseLines((await exec("kind", ["get", "nodes", "--name", cluster])).stdout).sort(
          nodeOrder,
        );
  const nodeContainers = await inspect(exec, nodes);
  const running = nodes.filter((n) => nodeContainers.find((c) => c.name === n)?.running);
  const reader =
    cluster === undefined
      ? undefined
      : await clusterReader(exec, requested.kubeconfig, cluster, !kubectl.missing, nodes);
  let listed: Listed;
  try {
    const [apiNodes, configMap, nodeFiles] = await Promise.all([
      readWith(reader, ["get", "nodes", "-o", "json"], (r) =>
        r.code === 0 ? { conditions: parseNodeConditions(r.stdout) } : { error: lastLine(r) },
      ),
      readWith(reader, ["get", "configmap", "-n", CM.namespace, CM.name, "-o", "json"], (r) =>
        r.code === 0
          ? { value: parseConfigMapValue(r.stdout, CM.key) }
          : NOT_FOUND.test(r.stderr)
            ? {}
            : { error: lastLine(r) },
      ),
      Promise.all(running.map(async (n) => readNodeFiles(exec, n))).then((files) =>
        Object.fromEntries(running.flatMap((n, i) => (files[i] ? [[n, files[i]]] : []))),
      ),
    ]);
    listed = {
      containers,
      clusters,
      clusterNetworks,
      nodes,
      nodeContainers,
      ...(reader === undefined ? {} : { kubeconfig: reader.source }),
      apiNodes,
      configMap,
      volumes: await volumes,
      nodeFiles,
    };
  } finally {
    reader?.cleanup?.();
  }
  return {
    requested,
    tools,
    found: { ...listed, ...(await probe(requested, listed, running, exec, client, settle)) },
  };
}

/** scripts/hosts-node.sh, the script the component's commands run inside the nodes. */
export function nodeScript(): string {
  return readFileSync(path.join(__dirname, "..", "scripts", "hosts-node.sh"), "utf8");
}

/** The command that prints a node's `hosts.toml` files (parseHostsList reads them). */
export function listHostsArgv(node: string): [string, ...string[]] {
  return ["docker", "exec", node, "sh", "-c", nodeScript(), "sh", "--list", CERTS_D];
}

/** A node's `hosts.toml` files and containerd's config; undefined when docker exec fails. */
async function readNodeFiles(exec: Exec, node: string): Promise<NodeFiles | undefined> {
  const [file, ...args] = listHostsArgv(node);
  const [hosts, config] = await Promise.all([
    exec(file, args),
    exec("docker", ["exec", node, "cat", CONTAINERD_CONFIG]),
  ]);
  if (hosts.code !== 0) {
    return undefined;
  }
  const hostsToml = parseHostsList(hosts.stdout);
  return config.code === 0 ? { containerdConfig: config.stdout, hostsToml } : { hostsToml };
}

/** Every kind node's cluster and networks, to tell which cluster holds the registry. */
async function readClusterNetworks(exec: Exec): Promise<Record<string, string[]>> {
  const label = "io.x-k8s.kind.cluster";
  const format = `{{.Label "${label}"}}\t{{.Networks}}`;
  const r = await exec("docker", ["ps", "-a", "--filter", `label=${label}`, "--format", format]);
  const pairs = parseLines(r.stdout).map((line) => line.split("\t"));
  return Object.fromEntries(
    pairs.map(([cluster = "", networks = ""]) => [cluster, networks.split(",")]),
  );
}

/** What kubectl says, read by `read`; without a way to run kubectl, why not. */
async function readWith<T>(
  reader: ClusterReader | undefined,
  args: readonly string[],
  read: (r: ExecResult) => T,
): Promise<T | { error: string }> {
  if (reader?.kubectl === undefined) {
    return { error: reader?.source.from === "none" ? reader.source.error : "no cluster" };
  }
  return read(await reader.kubectl(args));
}

/** The probes of what chooseTargets picked: all at once. */
async function probe(
  requested: Narrowing,
  listed: Listed,
  running: readonly string[],
  exec: Exec,
  client: RegistryClientFactory,
  settle: boolean,
): Promise<Probed> {
  const { registry, caches } = chooseTargets(requested, listed);
  const reg = registry?.container;
  const port = registry?.port;
  const apiProbing =
    reg?.running === true && port !== undefined
      ? probeRegistry(client, reg, port, settle)
      : Promise.resolve(undefined);
  // The pull probe starts as soon as the registry is known to answer.
  const pulling = apiProbing.then((api) =>
    api?.status === 200 && reg !== undefined && port !== undefined
      ? pullProbes(exec, client(registryUrl(reg, port), 15_000), `localhost:${port}`, running)
      : {},
  );
  const restarting = [reg, ...caches.map((c) => c.container)].flatMap((c) =>
    c?.restarting ? [c.name] : [],
  );
  const names = [...(registry === undefined ? [] : [registry.name]), ...caches.map((c) => c.name)];
  const remotes = Object.fromEntries(caches.map((c) => [c.name, c.remoteUrl]));
  const probeNode = running[0];
  const [registryApi, pulls, logs, upstreams, resolved] = await Promise.all([
    apiProbing,
    pulling,
    entries(restarting, async (name) => {
      const r = await exec("docker", ["logs", "--tail", "60", name]);
      return tellingLine(`${r.stdout}\n${r.stderr}`);
    }),
    entries(Object.keys(remotes), async (name): Promise<UpstreamProbe> => {
      const remote = remotes[name] ?? "";
      if (probeNode === undefined || remote === "") {
        return {};
      }
      const curl = ["curl", "-sS", "-o", "/dev/null", "-w", UPSTREAM_FORMAT, "--max-time", "5"];
      const url = `${remote.replace(/\/+$/, "")}/v2/`;
      const probe = ["exec", probeNode, ...curl, url];
      return { node: probeNode, result: await exec("docker", probe, { timeoutMs: 15_000 }) };
    }),
    entries(running, async (n) =>
      names.length === 0
        ? {}
        : parseGetent((await exec("docker", ["exec", n, "getent", "hosts", ...names])).stdout),
    ),
  ]);
  return {
    ...(registryApi === undefined ? {} : { registryApi }),
    logs,
    upstreams,
    resolved,
    pulls,
  };
}

/** `key -> await value(key)` for every key, all at once. */
async function entries<T>(
  keys: readonly string[],
  value: (key: string) => Promise<T>,
): Promise<Record<string, T>> {
  return Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await value(k)] as const)));
}

async function probeRegistry(
  client: RegistryClientFactory,
  c: ContainerInfo,
  port: number,
  settle: boolean,
): Promise<HttpProbe> {
  const base = registryUrl(c, port);
  // Just (re)started or reconnected: give it a few seconds to listen.
  const fresh = settle || Date.now() - Date.parse(c.startedAt) < 20_000;
  const r = await pingUntil(client(base, 5_000), fresh ? 10_000 : 0);
  const url = `${base}/v2/`;
  return "status" in r ? { url, ...r } : { url, error: r.error.replace(/^GET \S+: /, "") };
}

/** Pushes the probe image, pulls it with crictl on every node, then removes it everywhere. */
async function pullProbes(
  exec: Exec,
  api: RegistryClient,
  registryHost: string,
  nodes: readonly string[],
): Promise<Record<string, PullProbe>> {
  const image = probeImage(ociArchitecture(process.arch));
  const ref = `${registryHost}/${PROBE_REPOSITORY}:${PROBE_TAG}`;
  try {
    await api.pushBlob(PROBE_REPOSITORY, image.layer);
    await api.pushBlob(PROBE_REPOSITORY, image.config);
    await api.putManifest(PROBE_REPOSITORY, PROBE_TAG, OCI_MANIFEST, image.manifest.bytes);
  } catch (e) {
    return entries(nodes, async () => ({ pushError: (e as Error).message }));
  }
  try {
    return await entries(nodes, async (node): Promise<PullProbe> => {
      const start = Date.now();
      const result = await exec("docker", ["exec", node, "crictl", "pull", ref], {
        timeoutMs: 60_000,
      });
      const seconds = (Date.now() - start) / 1000;
      if (result.code === 0) {
        await exec("docker", ["exec", node, "crictl", "rmi", ref]);
      }
      return { image: ref, result, seconds };
    });
  } finally {
    await api.deleteManifest(PROBE_REPOSITORY, image.manifest.digest).catch(() => undefined);
  }
}

interface ClusterReader {
  /** Runs kubectl with these arguments against the cluster; absent when nothing can. */
  readonly kubectl?: (args: readonly string[]) => Promise<ExecResult>;
  readonly source: KubeconfigSource;
  /** Removes the kubeconfig file written for kind's kubeconfig. */
  readonly cleanup?: () => void;
}

/**
 * kubectl on the host with the given kubeconfig, else kind's; without kubectl on the host, or
 * when kind cannot read the kubeconfig, the control plane's own kubectl and admin kubeconfig
 * (`docker exec`, no privileges needed).
 */
async function clusterReader(
  exec: Exec,
  kubeconfig: string | undefined,
  cluster: string,
  hostKubectl: boolean,
  nodes: readonly string[],
): Promise<ClusterReader> {
  const withFile = (file: string) => (args: readonly string[]) =>
    exec("kubectl", ["--kubeconfig", file, "--request-timeout", "20s", ...args]);
  if (kubeconfig !== undefined && hostKubectl) {
    return { kubectl: withFile(kubeconfig), source: { from: "flag", file: kubeconfig } };
  }
  let kindError: string | undefined;
  if (hostKubectl) {
    const r = await exec("kind", ["get", "kubeconfig", "--name", cluster]);
    if (r.code === 0) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "kind-dev-doctor-"));
      const file = path.join(dir, "kubeconfig");
      writeFileSync(file, r.stdout, { mode: 0o600 });
      return {
        kubectl: withFile(file),
        source: { from: "kind" },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    kindError = lastLine(r);
  }
  const controlPlane = nodes.find((n) => n.endsWith("-control-plane"));
  if (controlPlane === undefined) {
    return {
      source: { from: "none", error: kindError ?? "no kubectl on PATH and no control-plane node" },
    };
  }
  const admin = ["--kubeconfig", "/etc/kubernetes/admin.conf", "--request-timeout", "20s"];
  return {
    kubectl: (args) => exec("docker", ["exec", controlPlane, "kubectl", ...admin, ...args]),
    source: { from: "control-plane", node: controlPlane, ...(kindError ? { kindError } : {}) },
  };
}

/** Control plane first, then workers in kind's order (worker, worker2, ..., worker10). */
function nodeOrder(a: string, b: string): number {
  const rank = (n: string) => {
    const m = /-worker(\d*)$/.exec(n);
    return n.endsWith("-control-plane") ? -1 : m === null ? Infinity : Number(m[1] || 1);
  };
  // Two nodes of no known kind: Infinity - Infinity is NaN, so their names decide.
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * Every volume's size as `docker system df -v` measures it (file sizes, 4 significant digits).
 * The daemon runs one disk-usage walk at a time and refuses a second one meanwhile, so a
 * refusal is retried for a few seconds. Null when docker cannot tell.
 */
export async function readVolumeSizes(exec: Exec): Promise<Record<string, number | null> | null> {
  for (let attempt = 0; ; attempt++) {
    const r = await exec("docker", ["system", "df", "-v", "--format", "{{json .Volumes}}"], {
      timeoutMs: 120_000,
    });
    if (r.code === 0) {
      return parseVolumeSizes(r.stdout);
    }
    if (!/already running/.test(r.stderr) || attempt >= 20) {
      return null;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
