/**
 * `kind-dev doctor`: gathers what docker, kind, kubectl and the nodes say about an environment
 * this package made, runs every check on it, and with `fix` repairs what is safe and local and
 * checks again. Needs no Pulumi: the registry and caches are found by their labels, the cluster
 * with kind.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LABEL_MANAGED } from "../render/containers";
import { LOCAL_REGISTRY_HOSTING } from "../render/localRegistryHosting";
import {
  attributeCauses,
  checkCacheRunning,
  checkCacheUpstream,
  checkCluster,
  checkConfigMap,
  checkContainerd,
  checkDocker,
  checkHostsToml,
  checkKind,
  checkKubeconfig,
  checkKubectl,
  checkNodeReady,
  checkNodeRunning,
  checkOnNetwork,
  checkPull,
  checkRegistryApi,
  checkRegistryLabel,
  checkRegistryPublished,
  checkRegistryRunning,
  checkResolves,
  checkVolume,
  type ConfigMapFacts,
  fixCommandLine,
  type HttpProbe,
  type KubeconfigSource,
  notChecked,
  type PullProbe,
  type UpstreamProbe,
} from "./checks";
import {
  type CacheTarget,
  type Expected,
  expectedFiles,
  type RegistryTarget,
  registryUrl,
  selectCaches,
  selectCluster,
  selectRegistry,
} from "./environment";
import { type Exec, execCommand, type ExecResult, lastLine } from "../exec";
import {
  type ContainerInfo,
  type NodeCondition,
  NODE_FILES_SCRIPT,
  type NodeFiles,
  parseConfigMapData,
  tellingLine,
  parseContainerdConfig,
  parseContainers,
  parseGetent,
  parseLines,
  parseNodeConditions,
  parseNodeFiles,
} from "./parse";
import {
  OCI_MANIFEST,
  ociArchitecture,
  PROBE_REPOSITORY,
  PROBE_TAG,
  probeImage,
} from "./probeImage";
import { RegistryApi, type RegistryClient } from "./registryApi";
import type { CheckResult, FixOutcome, Verdict } from "./types";
import { readVolumeSizes } from "./volumes";

export interface DoctorOptions {
  /** kind cluster to check. Default: the only one, or the one whose network holds the registry. */
  readonly cluster?: string;
  /** Push registry container. Default: found by the package's labels. */
  readonly registry?: string;
  /** kubeconfig for kubectl. Default: `kind get kubeconfig --name <cluster>`. */
  readonly kubeconfig?: string;
  /** Repair what is safe and local, then check again. */
  readonly fix?: boolean;
  /** How commands run; the default runs them with execFile. */
  readonly exec?: Exec;
  /** How the registry's HTTP API is reached; the default is RegistryApi (fetch). */
  readonly registryClient?: (baseUrl: string, timeoutMs: number) => RegistryClient;
}

export interface DoctorReport {
  /** Every check, after the repairs when `fix` was set. */
  readonly results: readonly CheckResult[];
  /** No check failed. */
  readonly ok: boolean;
  /** What `fix` ran. */
  readonly fixes: readonly FixOutcome[];
  /** The checks before the repairs, when `fix` ran any. */
  readonly before?: readonly CheckResult[];
  readonly seconds: number;
}

/** Runs every check (and, with `fix`, the repairs and every check again). */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const start = Date.now();
  const exec = options.exec ?? execCommand;
  let verdicts = await diagnose(options, exec);
  const fixes: FixOutcome[] = [];
  let before: CheckResult[] | undefined;
  if (options.fix === true) {
    const fixable = verdicts.filter((v) => v.status !== "pass" && v.fix !== undefined);
    if (fixable.length > 0) {
      before = attributeCauses(verdicts);
      for (const v of fixable) {
        if (v.fix === undefined) {
          continue;
        }
        const [file, ...args] = v.fix.argv;
        const r = await exec(file, args, v.fix.input === undefined ? {} : { input: v.fix.input });
        fixes.push({
          id: v.id,
          description: v.fix.description,
          ok: r.code === 0,
          ...(r.code === 0 ? {} : { error: lastLine(r) }),
        });
      }
      verdicts = await diagnose(options, exec, { settle: true });
    }
  }
  const results = attributeCauses(verdicts);
  return {
    results,
    ok: results.every((r) => r.status !== "fail"),
    fixes,
    ...(before === undefined ? {} : { before }),
    seconds: (Date.now() - start) / 1000,
  };
}

/** The doctor's own command line for remedies: --fix plus the flags the user narrowed with. */
function narrowingFlags(options: DoctorOptions): string[] {
  return [
    ...(options.cluster === undefined ? [] : ["--cluster", options.cluster]),
    ...(options.registry === undefined ? [] : ["--registry", options.registry]),
    ...(options.kubeconfig === undefined ? [] : ["--kubeconfig", options.kubeconfig]),
  ];
}

const NOT_FOUND = /\(NotFound\)|not found/;

async function inspect(exec: Exec, names: readonly string[]): Promise<ContainerInfo[]> {
  if (names.length === 0) {
    return [];
  }
  const r = await exec("docker", ["container", "inspect", ...names]);
  return parseContainers(r.stdout);
}

/** The line of a container's log that says why it stopped: its panic, else its last error. */
async function lastLogLine(exec: Exec, name: string): Promise<string> {
  const r = await exec("docker", ["logs", "--tail", "60", name]);
  return tellingLine(`${r.stdout}\n${r.stderr}`);
}

async function probeRegistry(
  client: (baseUrl: string, timeoutMs: number) => RegistryClient,
  c: ContainerInfo,
  port: number,
  settle: boolean,
): Promise<HttpProbe> {
  const base = registryUrl(c, port);
  const api = client(base, 5_000);
  // Just (re)started or reconnected: give it a few seconds to listen.
  const fresh = settle || Date.now() - Date.parse(c.startedAt) < 20_000;
  const deadline = Date.now() + (fresh ? 10_000 : 0);
  for (;;) {
    try {
      return { url: `${base}/v2/`, status: await api.ping() };
    } catch (e) {
      if (Date.now() >= deadline) {
        return { url: `${base}/v2/`, error: (e as Error).message.replace(/^GET \S+: /, "") };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Pushes the probe image, pulls it with crictl on every node, then removes it everywhere. */
async function pullProbes(
  exec: Exec,
  api: RegistryClient,
  registryHost: string,
  nodes: readonly string[],
): Promise<Map<string, PullProbe>> {
  const image = probeImage(ociArchitecture(process.arch));
  const ref = `${registryHost}/${PROBE_REPOSITORY}:${PROBE_TAG}`;
  try {
    await api.pushBlob(PROBE_REPOSITORY, image.layer);
    await api.pushBlob(PROBE_REPOSITORY, image.config);
    await api.putManifest(PROBE_REPOSITORY, PROBE_TAG, OCI_MANIFEST, image.manifest.bytes);
  } catch (e) {
    return new Map(nodes.map((n) => [n, { pushError: (e as Error).message }]));
  }
  try {
    const results = await Promise.all(
      nodes.map(async (node): Promise<[string, PullProbe]> => {
        const start = Date.now();
        const r = await exec("docker", ["exec", node, "crictl", "pull", ref], {
          timeoutMs: 60_000,
        });
        const seconds = (Date.now() - start) / 1000;
        if (r.code === 0) {
          await exec("docker", ["exec", node, "crictl", "rmi", ref]);
        }
        return [node, { image: ref, result: r, seconds }];
      }),
    );
    return new Map(results);
  } finally {
    await api.deleteManifest(PROBE_REPOSITORY, image.manifest.digest).catch(() => undefined);
  }
}

interface ClusterReader {
  /** Runs kubectl with these arguments against the cluster; absent when nothing can. */
  readonly kubectl?: (args: readonly string[]) => Promise<ExecResult>;
  readonly source: KubeconfigSource;
  readonly cleanup: () => void;
}

/**
 * kubectl on the host with the given kubeconfig, else kind's; without kubectl on the host, or
 * when kind cannot read the kubeconfig, the control plane's own kubectl and admin kubeconfig
 * (`docker exec`, no privileges needed).
 */
async function clusterReader(
  exec: Exec,
  options: DoctorOptions,
  cluster: string,
  hostKubectl: boolean,
  controlPlane: string | undefined,
): Promise<ClusterReader> {
  const insideNode = (node: string) => (args: readonly string[]) =>
    exec("docker", [
      "exec",
      node,
      "kubectl",
      "--kubeconfig",
      "/etc/kubernetes/admin.conf",
      "--request-timeout",
      "20s",
      ...args,
    ]);
  const none = () => undefined;
  if (options.kubeconfig !== undefined && hostKubectl) {
    const file = options.kubeconfig;
    return {
      kubectl: (args) =>
        exec("kubectl", ["--kubeconfig", file, "--request-timeout", "20s", ...args]),
      source: { from: "flag", file },
      cleanup: none,
    };
  }
  let kindError: string | undefined;
  if (hostKubectl) {
    const r = await exec("kind", ["get", "kubeconfig", "--name", cluster]);
    if (r.code === 0) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "kind-dev-doctor-"));
      const file = path.join(dir, "kubeconfig");
      writeFileSync(file, r.stdout, { mode: 0o600 });
      return {
        kubectl: (args) =>
          exec("kubectl", ["--kubeconfig", file, "--request-timeout", "20s", ...args]),
        source: { from: "kind" },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    kindError = lastLine(r);
  }
  if (controlPlane === undefined) {
    return {
      source: { from: "none", error: kindError ?? "no kubectl on PATH and no control-plane node" },
      cleanup: none,
    };
  }
  return {
    kubectl: insideNode(controlPlane),
    source: { from: "control-plane", node: controlPlane, ...(kindError ? { kindError } : {}) },
    cleanup: none,
  };
}

/**
 * One pass of every check. `settle`: right after repairs, give a registry that was just started
 * or reconnected a few seconds to answer.
 */
export async function diagnose(
  options: DoctorOptions,
  exec: Exec = execCommand,
  { settle = false }: { readonly settle?: boolean } = {},
): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  const fixCommand = fixCommandLine(narrowingFlags(options));
  const client =
    options.registryClient ??
    ((base: string, timeoutMs: number) => new RegistryApi(base, timeoutMs));

  const [dockerR, kindR, kubectlR] = await Promise.all([
    exec("docker", ["version", "--format", "{{.Server.Version}}"]),
    exec("kind", ["version"]),
    exec("kubectl", ["version", "--client", "-o", "json"]),
  ]);
  const docker = checkDocker(dockerR);
  const kind = checkKind(kindR);
  verdicts.push(docker, kind, checkKubectl(kubectlR));
  if (docker.status === "fail") {
    return verdicts;
  }

  // Containers labelled by this package, and the registry named with --registry.
  const [labelledR, clustersR] = await Promise.all([
    exec("docker", [
      "ps",
      "-a",
      "--filter",
      `label=${LABEL_MANAGED}=true`,
      "--format",
      "{{.Names}}",
    ]),
    kind.status === "pass" ? exec("kind", ["get", "clusters"]) : undefined,
  ]);
  const names = new Set(parseLines(labelledR.stdout));
  if (options.registry !== undefined) {
    names.add(options.registry);
  }
  const containers = await inspect(exec, [...names].sort());
  const clusters =
    clustersR === undefined || clustersR.code !== 0 ? [] : parseLines(clustersR.stdout);

  const clusterNetworks = new Map<string, string[]>();
  if (options.cluster === undefined && clusters.length > 1) {
    const r = await exec("docker", [
      "ps",
      "-a",
      "--filter",
      "label=io.x-k8s.kind.cluster",
      "--format",
      '{{.Label "io.x-k8s.kind.cluster"}}\t{{.Networks}}',
    ]);
    for (const line of parseLines(r.stdout)) {
      const [cluster = "", networks = ""] = line.split("\t");
      clusterNetworks.set(cluster, networks.split(","));
    }
  }
  const choice = selectCluster(options.cluster, clusters, clusterNetworks, containers);
  const cluster = choice.name;
  const nodes =
    cluster === undefined
      ? []
      : parseLines((await exec("kind", ["get", "nodes", "--name", cluster])).stdout).sort(
          nodeOrder,
        );
  const nodeContainers = new Map((await inspect(exec, nodes)).map((c) => [c.name, c]));
  const network = nodes.map((n) => nodeContainers.get(n)?.networks[0]).find((n) => n);
  verdicts.push(
    checkCluster({
      name: cluster,
      ...(choice.problem === undefined ? {} : { problem: choice.problem }),
      nodes,
      network,
    }),
  );
  const runningNodes = nodes.filter((n) => nodeContainers.get(n)?.running === true);
  const controlPlane = nodes.find((n) => n.endsWith("-control-plane"));

  // What the nodes, the API server and docker's disk usage say, all at once.
  const reader =
    cluster === undefined
      ? undefined
      : await clusterReader(exec, options, cluster, !kubectlR.missing, controlPlane);
  try {
    if (reader !== undefined && cluster !== undefined) {
      verdicts.push(checkKubeconfig(cluster, reader.source));
    }
    const kubectl = reader?.kubectl;
    const [nodesR, configMapR, volumesR, nodeFiles] = await Promise.all([
      kubectl?.(["get", "nodes", "-o", "json"]),
      kubectl?.([
        "get",
        "configmap",
        "-n",
        LOCAL_REGISTRY_HOSTING.namespace,
        LOCAL_REGISTRY_HOSTING.name,
        "-o",
        "json",
      ]),
      readVolumeSizes(exec),
      Promise.all(
        runningNodes.map(async (n): Promise<[string, NodeFiles | undefined]> => {
          const r = await exec("docker", ["exec", n, "sh", "-c", NODE_FILES_SCRIPT]);
          return [n, r.code === 0 ? parseNodeFiles(r.stdout) : undefined];
        }),
      ).then((entries) => new Map(entries)),
    ]);
    const readError =
      nodesR === undefined
        ? reader?.source.from === "none"
          ? reader.source.error
          : "no cluster"
        : nodesR.code !== 0
          ? lastLine(nodesR)
          : undefined;
    let conditions = new Map<string, NodeCondition>();
    if (readError === undefined && nodesR !== undefined) {
      conditions = parseNodeConditions(nodesR.stdout);
    }
    const configMap: ConfigMapFacts =
      configMapR === undefined
        ? { error: readError ?? "not read" }
        : configMapR.code === 0
          ? { value: parseConfigMapData(configMapR.stdout)[LOCAL_REGISTRY_HOSTING.key] ?? "" }
          : NOT_FOUND.test(configMapR.stderr)
            ? {}
            : { error: lastLine(configMapR) };
    const volumeSizes = volumesR ?? new Map<string, number | undefined>();
    const nodeHosts = [...nodeFiles.values()].flatMap((f) =>
      f === undefined ? [] : [f.hostsToml],
    );

    const registry = selectRegistry({
      requested: options.registry,
      containers,
      network,
      configMap: configMap.value,
      nodeHosts,
    });
    const caches = selectCaches({ containers, network, nodeHosts });

    let expected: Expected | undefined;
    try {
      expected = expectedFiles(
        { name: registry?.name ?? "kind-registry", port: registry?.port ?? 5001 },
        caches,
      );
    } catch (e) {
      verdicts.push({
        id: "expected",
        title: "names fit the component",
        status: "fail",
        detail: `the registry and caches found are not ones the component makes: ${(e as Error).message}`,
        remedy: "npx kind-dev doctor --registry <container> --cluster <name>",
      });
    }
    // Without a known registry (or its port) its files cannot be predicted: leave them out.
    const expectedHosts = new Map(
      [...(expected?.hostsToml ?? new Map<string, string>())].filter(([dir, toml]) => {
        const forRegistry = !toml.includes("server =");
        if (!forRegistry) {
          return true;
        }
        return (
          registry !== undefined && (registry.port !== undefined || !dir.startsWith("localhost:"))
        );
      }),
    );

    // Probes that need the registry, the caches and the nodes: all at once.
    const regContainer = registry?.container;
    const registryHostDir = registry?.port === undefined ? undefined : `localhost:${registry.port}`;
    const resolveNames = [
      ...(registry === undefined ? [] : [registry.name]),
      ...caches.map((c) => c.name),
    ];
    const probeNode = runningNodes[0];
    const port = registry?.port;
    const apiProbing =
      regContainer?.running === true && port !== undefined
        ? probeRegistry(client, regContainer, port, settle)
        : Promise.resolve(undefined);
    // The pull probe starts as soon as the registry is known to answer.
    const pulling = apiProbing.then((probe) =>
      probe?.status === 200 && regContainer !== undefined && port !== undefined
        ? pullProbes(
            exec,
            client(registryUrl(regContainer, port), 15_000),
            `localhost:${port}`,
            runningNodes,
          )
        : new Map<string, PullProbe>(),
    );
    const [apiProbe, pulls, registryLog, cacheLogs, upstreams, resolved] = await Promise.all([
      apiProbing,
      pulling,
      regContainer?.restarting === true ? lastLogLine(exec, regContainer.name) : "",
      Promise.all(
        caches.map(async (c) =>
          c.container?.restarting === true ? lastLogLine(exec, c.name) : "",
        ),
      ),
      Promise.all(
        caches.map(async (c): Promise<UpstreamProbe> => {
          if (probeNode === undefined || c.remoteUrl === "") {
            return {};
          }
          const url = `${c.remoteUrl.replace(/\/+$/, "")}/v2/`;
          const result = await exec(
            "docker",
            [
              "exec",
              probeNode,
              "curl",
              "-sS",
              "-o",
              "/dev/null",
              "-w",
              "%{http_code}",
              "--max-time",
              "5",
              url,
            ],
            { timeoutMs: 15_000 },
          );
          return { node: probeNode, result };
        }),
      ),
      Promise.all(
        runningNodes.map(async (n): Promise<[string, Map<string, string>]> => {
          if (resolveNames.length === 0) {
            return [n, new Map()];
          }
          const r = await exec("docker", ["exec", n, "getent", "hosts", ...resolveNames]);
          return [n, parseGetent(r.stdout)];
        }),
      ).then((entries) => new Map(entries)),
    ]);

    // Registry.
    const volumeExists = (v: string) => volumeSizes.has(v);
    verdicts.push(
      checkRegistryRunning(
        registry,
        registry === undefined ? false : volumeExists(registry.volume),
        network,
        registryLog,
      ),
    );
    if (regContainer !== undefined) {
      verdicts.push(
        checkRegistryLabel(regContainer),
        checkOnNetwork(
          "registry.network",
          "registry on the cluster's network",
          regContainer,
          network,
          ["registry.running"],
        ),
        checkRegistryPublished(regContainer),
        checkRegistryApi(regContainer, apiProbe),
      );
    }

    // Caches.
    caches.forEach((cache, i) => {
      verdicts.push(checkCacheRunning(cache, volumeExists(cache.volume), cacheLogs[i] ?? ""));
      if (cache.container !== undefined) {
        verdicts.push(
          checkOnNetwork(
            `cache.network@${cache.name}`,
            `cache ${cache.name} on the cluster's network`,
            cache.container,
            network,
            [`cache.running@${cache.name}`],
          ),
        );
      }
      verdicts.push(checkCacheUpstream(cache, network, upstreams[i] ?? {}));
    });

    // Nodes.
    for (const node of nodes) {
      const running = checkNodeRunning(node, nodeContainers.get(node));
      verdicts.push(running);
      if (cluster !== undefined) {
        verdicts.push(
          checkNodeReady(
            node,
            cluster,
            conditions.get(node),
            readError,
            nodeContainers.get(node)?.running === true,
          ),
        );
      }
      const files = nodeFiles.get(node);
      if (files === undefined) {
        const reason =
          running.status === "pass"
            ? `could not read ${node}'s files with docker exec`
            : `${node} is not running`;
        verdicts.push(
          notChecked(`node.containerd@${node}`, `containerd on ${node} reads hosts.toml`, reason, [
            `node.running@${node}`,
          ]),
        );
        for (const dir of expectedHosts.keys()) {
          verdicts.push(
            notChecked(
              `node.hosts-toml@${node}/${dir}`,
              `${node} has hosts.toml for ${dir}`,
              reason,
              [`node.running@${node}`],
            ),
          );
        }
        continue;
      }
      verdicts.push(
        checkContainerd(
          node,
          files.containerdConfig === undefined
            ? undefined
            : parseContainerdConfig(files.containerdConfig),
        ),
      );
      for (const [dir, toml] of expectedHosts) {
        verdicts.push(checkHostsToml(node, dir, toml, files.hostsToml.get(dir), fixCommand));
      }
      const addresses = resolved.get(node) ?? new Map<string, string>();
      if (registry !== undefined) {
        verdicts.push(
          checkResolves(node, registry.name, addresses.get(registry.name), network, [
            "registry.running",
            "registry.network",
          ]),
        );
      }
      for (const cache of caches) {
        verdicts.push(
          checkResolves(node, cache.name, addresses.get(cache.name), network, [
            `cache.running@${cache.name}`,
            `cache.network@${cache.name}`,
          ]),
        );
      }
      verdicts.push(checkPull(node, registryHostDir, pulls.get(node) ?? {}));
    }

    // ConfigMap and volumes.
    if (cluster !== undefined) {
      verdicts.push(
        checkConfigMap(
          cluster,
          configMap,
          registry?.port === undefined ? undefined : expected?.localRegistryHosting,
        ),
      );
    }
    const volumes: [string, string][] = [
      ...(registry === undefined
        ? []
        : [[registry.volume, `registry ${registry.name}`] as [string, string]]),
      ...caches.map((c): [string, string] => [c.volume, `cache ${c.name}`]),
    ];
    const withContainer = new Set([
      ...(regContainer === undefined ? [] : [registry?.volume]),
      ...caches.filter((c) => c.container !== undefined).map((c) => c.volume),
    ]);
    for (const [volume, owner] of volumes) {
      // A container that is gone with its volume is reported by its running check alone.
      if (volumeExists(volume) || withContainer.has(volume)) {
        verdicts.push(
          checkVolume(
            volume,
            owner,
            volumeExists(volume) || volumesR === undefined,
            volumeSizes.get(volume),
          ),
        );
      }
    }
    return verdicts;
  } finally {
    reader?.cleanup();
  }
}

/** Control plane first, then workers in kind's order (worker, worker2, ..., worker10). */
function nodeOrder(a: string, b: string): number {
  const rank = (n: string) => {
    if (n.endsWith("-control-plane")) {
      return [0, 0] as const;
    }
    const m = /-worker(\d*)$/.exec(n);
    return m === null ? ([2, 0] as const) : ([1, m[1] === "" ? 1 : Number(m[1])] as const);
  };
  const [ra, na] = rank(a);
  const [rb, nb] = rank(b);
  return ra - rb || na - nb || a.localeCompare(b);
}

export type { CacheTarget, RegistryTarget };
