/**
 * Every check's verdict as a pure function of what docker, kind, kubectl and the nodes returned.
 * Each verdict says what was found in one line and names the exact command that repairs it;
 * verdicts `--fix` can repair carry that repair as a command to run.
 */
import { CERTS_D } from "../render/containerd";
import { LABEL_MANAGED, REGISTRY_CONTAINER_PORT } from "../render/containers";
import type { CacheTarget, RegistryTarget } from "./environment";
import { displayCommand, type ExecResult, lastLine } from "../exec";
import {
  type ContainerInfo,
  type ContainerdRegistryConfig,
  formatBytes,
  type NodeCondition,
  parseKindVersion,
  parseKubectlVersion,
} from "./parse";
import type { CheckResult, Fix, Verdict } from "./types";

/** Remedy for anything that needs the cluster made again by the component. */
export const RECREATE_CLUSTER =
  "recreate the cluster: pulumi up --replace '<URN of the <env>-cluster command, from pulumi stack --show-urns>'";

function pass(id: string, title: string, detail: string, dependsOn?: readonly string[]): Verdict {
  return { id, title, status: "pass", detail, remedy: "", ...(dependsOn ? { dependsOn } : {}) };
}

function verdict(
  status: "warn" | "fail",
  id: string,
  title: string,
  detail: string,
  remedy: string,
  extra: { dependsOn?: readonly string[]; fix?: Fix } = {},
): Verdict {
  return { id, title, status, detail, remedy, ...extra };
}

/**
 * A check that could not be made because something it needs failed: a failure that
 * attributeCauses ties to that root cause.
 */
export function notChecked(
  id: string,
  title: string,
  reason: string,
  dependsOn: readonly string[],
): Verdict {
  return verdict("fail", id, title, `not checked: ${reason}`, "see the check it depends on", {
    dependsOn,
  });
}

/** Runs a command to repair, and names it as the remedy too. */
function fixWith(description: string, argv: readonly [string, ...string[]], input?: string): Fix {
  return { description, argv, ...(input === undefined ? {} : { input }) };
}

// ---- tools --------------------------------------------------------------------------------

/** `docker version --format '{{.Server.Version}}'`. */
export function checkDocker(r: ExecResult): Verdict {
  const title = "Docker answers";
  if (r.missing) {
    return verdict(
      "fail",
      "docker",
      title,
      "the docker CLI is not on PATH",
      "install Docker (https://docs.docker.com/engine/install/) and put docker on PATH",
    );
  }
  if (r.code !== 0 || r.stdout.trim() === "") {
    return verdict(
      "fail",
      "docker",
      title,
      `the Docker daemon does not answer: ${lastLine(r)}`,
      "start Docker, then check with: docker info",
    );
  }
  return pass("docker", title, `Docker engine ${r.stdout.trim()}`);
}

/** `kind version`. */
export function checkKind(r: ExecResult): Verdict {
  const title = "kind present";
  if (r.missing) {
    return verdict(
      "fail",
      "kind",
      title,
      "the kind CLI is not on PATH",
      "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH",
    );
  }
  const version = parseKindVersion(r.stdout);
  if (r.code !== 0 || version === undefined) {
    return verdict("fail", "kind", title, `kind version failed: ${lastLine(r)}`, "kind version");
  }
  return pass("kind", title, `kind ${version}`);
}

/** `kubectl version --client -o json`; without kubectl the doctor uses the control plane's own. */
export function checkKubectl(r: ExecResult): Verdict {
  const title = "kubectl present";
  if (r.missing) {
    return verdict(
      "warn",
      "kubectl",
      title,
      "kubectl is not on PATH; the doctor read the cluster with the control plane's own kubectl",
      "install kubectl (https://kubernetes.io/docs/tasks/tools/) to use the cluster from the host",
    );
  }
  const version = parseKubectlVersion(r.stdout);
  if (r.code !== 0 || version === undefined) {
    return verdict(
      "warn",
      "kubectl",
      title,
      `kubectl version --client failed: ${lastLine(r)}`,
      "kubectl version --client",
    );
  }
  return pass("kubectl", title, `kubectl ${version}`);
}

// ---- cluster -------------------------------------------------------------------------------

export interface ClusterFacts {
  readonly name?: string;
  /** Why no cluster was chosen. */
  readonly problem?: string;
  readonly nodes: readonly string[];
  readonly network?: string;
}

export function checkCluster(f: ClusterFacts): Verdict {
  const title = "kind cluster exists";
  const deps = ["docker", "kind"];
  if (f.name === undefined) {
    const several = f.problem?.startsWith("several") === true;
    return verdict(
      "fail",
      "cluster",
      title,
      f.problem ?? "no kind cluster",
      several
        ? "npx kind-dev doctor --cluster <name>"
        : "pulumi up (creates it; if the stack already has it: " + RECREATE_CLUSTER + ")",
      { dependsOn: deps },
    );
  }
  if (f.nodes.length === 0) {
    return verdict(
      "fail",
      "cluster",
      title,
      `kind cluster ${f.name} has no node containers (kind get nodes --name ${f.name})`,
      RECREATE_CLUSTER,
      { dependsOn: deps },
    );
  }
  return pass(
    "cluster",
    title,
    `${f.name}: ${f.nodes.length} node${f.nodes.length === 1 ? "" : "s"} (${f.nodes.join(", ")})${
      f.network === undefined ? "" : ` on network ${f.network}`
    }`,
    deps,
  );
}

/** Where the doctor's kubectl got its access to the cluster. */
export type KubeconfigSource =
  | { readonly from: "flag"; readonly file: string }
  | { readonly from: "kind" }
  | { readonly from: "control-plane"; readonly node: string; readonly kindError?: string }
  | { readonly from: "none"; readonly error: string };

export function checkKubeconfig(cluster: string, source: KubeconfigSource): Verdict {
  const id = "kubeconfig";
  const title = "kubeconfig for the cluster";
  const deps = ["cluster"];
  switch (source.from) {
    case "flag":
      return pass(id, title, `--kubeconfig ${source.file}`, deps);
    case "kind":
      return pass(id, title, `kind get kubeconfig --name ${cluster}`, deps);
    case "control-plane":
      return source.kindError === undefined
        ? pass(id, title, `the kubectl of ${source.node} (no kubectl on the host)`, deps)
        : verdict(
            "warn",
            id,
            title,
            `kind get kubeconfig --name ${cluster} failed (${source.kindError}); read the cluster with the kubectl of ${source.node}`,
            `kind get kubeconfig --name ${cluster} (or name a kubeconfig: --kubeconfig FILE)`,
            { dependsOn: deps },
          );
    case "none":
      return verdict(
        "fail",
        id,
        title,
        `no way to read the cluster: ${source.error}`,
        `kind get kubeconfig --name ${cluster}`,
        { dependsOn: deps },
      );
    default: {
      const never: never = source;
      return never;
    }
  }
}

// ---- registry ------------------------------------------------------------------------------

function describeState(c: ContainerInfo): string {
  return c.status === "exited" ? `exited (exit code ${c.exitCode})` : c.status;
}

/**
 * The push registry container exists and runs. `volumeExists` tells a container removed by
 * hand (its volume, with the images, is still there) from one removed with its volume.
 */
export function checkRegistryRunning(
  registry: RegistryTarget | undefined,
  volumeExists: boolean,
  network: string | undefined,
  lastLog: string,
): Verdict {
  const id = "registry.running";
  const title = "push registry container runs";
  const deps = ["docker"];
  if (registry === undefined) {
    return verdict(
      "fail",
      id,
      title,
      `no push registry found: no container labelled ${LABEL_MANAGED}=true and role registry${
        network === undefined ? "" : ` on network ${network}`
      }, and no ConfigMap or hosts.toml names one`,
      "pulumi up (or name it: npx kind-dev doctor --registry <container>)",
      { dependsOn: deps },
    );
  }
  const c = registry.container;
  if (c === undefined) {
    return volumeExists
      ? verdict(
          "fail",
          id,
          title,
          `container ${registry.name} (found by ${registry.foundBy}) does not exist; its volume ${registry.volume} is still there, with the images`,
          `pulumi up (creates ${registry.name} again on ${registry.volume}, images included)`,
          { dependsOn: deps },
        )
      : verdict(
          "fail",
          id,
          title,
          `container ${registry.name} (found by ${registry.foundBy}) does not exist, nor its volume ${registry.volume}`,
          "pulumi up --replace '<URN of the <env>-registry command, from pulumi stack --show-urns>' (an empty registry)",
          { dependsOn: deps },
        );
  }
  if (c.restarting) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} is restarting (${c.restartCount} restarts)${lastLog === "" ? "" : `: ${lastLog}`}`,
      `docker logs ${c.name}`,
      { dependsOn: deps },
    );
  }
  if (!c.running) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} is ${describeState(c)}`,
      `docker start ${c.name}`,
      {
        dependsOn: deps,
        fix: fixWith(`started ${c.name}`, ["docker", "start", c.name]),
      },
    );
  }
  return pass(
    id,
    title,
    `${c.name} (${c.image}), running since ${c.startedAt.replace(/\.\d+Z$/, "Z")}; found by ${registry.foundBy}`,
    deps,
  );
}

export function checkRegistryLabel(c: ContainerInfo): Verdict {
  const id = "registry.label";
  const title = "registry made by pulumi-kind-dev";
  if (c.labels[LABEL_MANAGED] !== "true") {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} lacks the label ${LABEL_MANAGED}=true: another tool made it (kind's shell script?), and pulumi up will not adopt it`,
      `docker rm -f ${c.name}, then pulumi up (push its images again), or set registryName to another name`,
      { dependsOn: ["registry.running"] },
    );
  }
  return pass(id, title, `${LABEL_MANAGED}=true`, ["registry.running"]);
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
    return verdict(
      "fail",
      id,
      title,
      "not checked: no cluster, so no cluster network",
      "pulumi up",
      { dependsOn: [...dependsOn, "cluster"] },
    );
  }
  if (!c.networks.includes(network)) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} is not on network ${network} (on: ${c.networks.join(", ") || "none"}): the nodes cannot reach it by name`,
      `docker network connect ${network} ${c.name}`,
      {
        dependsOn,
        fix: fixWith(`connected ${c.name} to network ${network}`, [
          "docker",
          "network",
          "connect",
          network,
          c.name,
        ]),
      },
    );
  }
  return pass(id, title, `on network ${network}`, dependsOn);
}

function isLoopback(ip: string): boolean {
  return ip === "::1" || ip === "localhost" || /^127\./.test(ip);
}

export function checkRegistryPublished(c: ContainerInfo): Verdict {
  const id = "registry.published";
  const title = "registry published on loopback only";
  const deps = ["registry.running"];
  const bindings = c.ports.filter((p) => p.containerPort === `${REGISTRY_CONTAINER_PORT}/tcp`);
  if (bindings.length === 0) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} does not publish port ${REGISTRY_CONTAINER_PORT}: nothing on the host can push to it`,
      `docker rm -f ${c.name}, then pulumi up (creates it again on its volume, published)`,
      { dependsOn: deps },
    );
  }
  const shown = bindings.map((b) => `${b.hostIp === "" ? "0.0.0.0" : b.hostIp}:${b.hostPort}`);
  const open = bindings.filter((b) => !isLoopback(b.hostIp));
  if (open.length > 0) {
    return verdict(
      "warn",
      id,
      title,
      `published on ${shown.join(", ")}: any machine that reaches this one can push and pull`,
      "set bindAddress: 127.0.0.1 (the default) and run pulumi up",
      { dependsOn: deps },
    );
  }
  return pass(id, title, `${shown.join(", ")} -> ${REGISTRY_CONTAINER_PORT}`, deps);
}

export interface HttpProbe {
  readonly url: string;
  /** HTTP status, or undefined when nothing answered. */
  readonly status?: number;
  readonly error?: string;
}

export function checkRegistryApi(c: ContainerInfo, probe: HttpProbe | undefined): Verdict {
  const id = "registry.api";
  const title = "registry answers GET /v2/ from the host";
  // Off its only network, a container loses its published ports too.
  const deps = ["registry.running", "registry.published", "registry.network"];
  if (probe === undefined) {
    return verdict(
      "fail",
      id,
      title,
      "not checked: the registry publishes no port",
      `docker port ${c.name}`,
      {
        dependsOn: deps,
      },
    );
  }
  if (probe.status === 200) {
    return pass(id, title, `GET ${probe.url} -> 200`, deps);
  }
  return verdict(
    "fail",
    id,
    title,
    probe.status === undefined
      ? `GET ${probe.url}: ${probe.error ?? "no answer"}`
      : `GET ${probe.url} -> ${probe.status}, expected 200 (another program on that port?)`,
    `docker logs ${c.name} (and check what listens on the port: ss -ltnp)`,
    { dependsOn: deps },
  );
}

// ---- caches --------------------------------------------------------------------------------

export function checkCacheRunning(
  cache: CacheTarget,
  volumeExists: boolean,
  lastLog: string,
): Verdict {
  const id = `cache.running@${cache.name}`;
  const title = `cache ${cache.name} runs`;
  const deps = ["docker"];
  const c = cache.container;
  if (c === undefined) {
    return verdict(
      "fail",
      id,
      title,
      `container ${cache.name} (found by ${cache.foundBy}) does not exist${
        volumeExists ? `; its volume ${cache.volume} is still there` : ""
      }; nodes pull ${cache.upstreamHost} from ${cache.remoteUrl} directly meanwhile`,
      volumeExists
        ? `pulumi up (creates ${cache.name} again on ${cache.volume})`
        : "pulumi up --replace '<URN of the <env>-cache-<host> command, from pulumi stack --show-urns>'",
      { dependsOn: deps },
    );
  }
  if (c.restarting || (c.running && c.status === "restarting")) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} is restarting (${c.restartCount} restarts): a registry in proxy mode exits at start while its upstream ${cache.remoteUrl} does not answer${
        lastLog === "" ? "" : ` (${lastLog})`
      }; nodes pull from the upstream directly meanwhile`,
      `make ${cache.remoteUrl} answer, then check: docker logs ${c.name}`,
      { dependsOn: deps },
    );
  }
  if (!c.running) {
    return verdict(
      "fail",
      id,
      title,
      `${c.name} is ${describeState(c)}; nodes pull ${cache.upstreamHost} from ${cache.remoteUrl} directly meanwhile`,
      `docker start ${c.name}`,
      { dependsOn: deps, fix: fixWith(`started ${c.name}`, ["docker", "start", c.name]) },
    );
  }
  return pass(
    id,
    title,
    `${c.name} (${c.image}) caches ${cache.upstreamHost} from ${cache.remoteUrl}${
      c.restartCount > 0 ? `; restarted ${c.restartCount} times since it was created` : ""
    }`,
    deps,
  );
}

/** `curl -w '%{http_code}' <remoteUrl>/v2/` run inside a node on the cache's network. */
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
  const id = `cache.upstream@${cache.name}`;
  const title = `cache ${cache.name}'s upstream answers`;
  const url = `${cache.remoteUrl.replace(/\/+$/, "")}/v2/`;
  const deps = ["cluster"];
  if (probe.node === undefined || probe.result === undefined) {
    return verdict(
      "warn",
      id,
      title,
      `not checked: no running node on network ${network ?? "(none)"} to probe ${url} from`,
      "pulumi up (the cluster's nodes are the probe's vantage point)",
      { dependsOn: deps },
    );
  }
  const r = probe.result;
  const code = Number(r.stdout.trim());
  if (r.code === 0 && code > 0) {
    return pass(id, title, `GET ${url} -> ${code}, from ${probe.node}`, deps);
  }
  if (r.missing || /executable file not found|not found in \$PATH/.test(r.stderr)) {
    return verdict(
      "warn",
      id,
      title,
      `not checked: no curl in node ${probe.node}`,
      `docker exec ${probe.node} sh -c 'command -v curl'`,
      { dependsOn: deps },
    );
  }
  return verdict(
    "warn",
    id,
    title,
    `GET ${url} from ${probe.node} (network ${network ?? "?"}): ${lastLine(r)}; the cache serves what it holds, new images cannot be fetched`,
    `docker exec ${probe.node} curl -sS -o /dev/null -w '%{http_code}\\n' ${url} (then fix the network, proxy or credentials on the way)`,
    { dependsOn: deps },
  );
}

// ---- nodes ---------------------------------------------------------------------------------

export function checkNodeRunning(node: string, c: ContainerInfo | undefined): Verdict {
  const id = `node.running@${node}`;
  const title = `node ${node} runs`;
  if (c === undefined) {
    return verdict("fail", id, title, `container ${node} does not exist`, RECREATE_CLUSTER, {
      dependsOn: ["cluster"],
    });
  }
  if (!c.running) {
    return verdict("fail", id, title, `${node} is ${describeState(c)}`, `docker start ${node}`, {
      dependsOn: ["cluster"],
    });
  }
  return pass(id, title, "running", ["cluster"]);
}

export function checkNodeReady(
  node: string,
  cluster: string,
  condition: NodeCondition | undefined,
  readError: string | undefined,
  containerRunning = true,
): Verdict {
  const id = `node.ready@${node}`;
  const title = `node ${node} Ready`;
  const deps = [`node.running@${node}`, "cluster", "kubeconfig"];
  if (!containerRunning) {
    // The API server keeps the last Ready=True until the node's heartbeat times out (40 s).
    return verdict(
      "fail",
      id,
      title,
      `not Ready: its container is not running${condition?.ready === true ? " (the API server's Ready is stale)" : ""}`,
      `docker start ${node}`,
      { dependsOn: deps },
    );
  }
  if (readError !== undefined) {
    return verdict(
      "fail",
      id,
      title,
      `could not read the nodes from the API server: ${readError}`,
      `kubectl --context kind-${cluster} get nodes`,
      { dependsOn: deps },
    );
  }
  if (condition === undefined) {
    return verdict(
      "fail",
      id,
      title,
      `${node} is not registered with the API server`,
      `docker logs ${node}`,
      { dependsOn: deps },
    );
  }
  if (!condition.ready) {
    return verdict(
      "fail",
      id,
      title,
      `NotReady: ${condition.reason || "no reason given"}`,
      `kubectl --context kind-${cluster} wait --for=condition=Ready node/${node} --timeout=120s (if it stays NotReady: kubectl --context kind-${cluster} describe node ${node})`,
      { dependsOn: deps },
    );
  }
  return pass(id, title, `Ready${condition.reason === "" ? "" : ` (${condition.reason})`}`, deps);
}

export function checkContainerd(
  node: string,
  config: ContainerdRegistryConfig | undefined,
): Verdict {
  const id = `node.containerd@${node}`;
  const title = `containerd on ${node} reads hosts.toml`;
  const deps = [`node.running@${node}`];
  if (config === undefined) {
    return verdict(
      "fail",
      id,
      title,
      "could not read /etc/containerd/config.toml",
      `docker exec ${node} cat /etc/containerd/config.toml`,
      { dependsOn: deps },
    );
  }
  if (config.legacy.length > 0) {
    return verdict(
      "fail",
      id,
      title,
      `legacy ${config.legacy.join(", ")} next to config_path: containerd 2.2 fails to load its CRI plugin with both, and 2.4 removes them`,
      RECREATE_CLUSTER + " (this package never writes registry.mirrors)",
      { dependsOn: deps },
    );
  }
  if (config.configPaths.length === 0) {
    return verdict(
      "fail",
      id,
      title,
      `no config_path: containerd 2.0/2.1 ignore ${CERTS_D}/*/hosts.toml (containerd 2.2+ read it by default)`,
      RECREATE_CLUSTER + " (the component's kind config sets config_path)",
      { dependsOn: deps },
    );
  }
  if (config.configPaths.length > 1) {
    return verdict(
      "fail",
      id,
      title,
      `${config.configPaths.length} config_path settings (${config.configPaths.map((p) => JSON.stringify(p)).join(", ")}): which one wins depends on the containerd version`,
      RECREATE_CLUSTER,
      { dependsOn: deps },
    );
  }
  const value = config.configPaths[0] ?? "";
  if (value !== CERTS_D) {
    const dirs = value.split(":");
    return verdict(
      dirs.includes(CERTS_D) ? "warn" : "fail",
      id,
      title,
      dirs.includes(CERTS_D)
        ? `config_path = ${JSON.stringify(value)}: several directories, a hosts.toml in another one may take precedence`
        : `config_path = ${JSON.stringify(value)}: the hosts.toml files in ${CERTS_D} are ignored`,
      RECREATE_CLUSTER,
      { dependsOn: deps },
    );
  }
  return pass(id, title, `config_path = "${CERTS_D}", no legacy registry.mirrors/configs`, deps);
}

/** Runs inside the node; the host directory arrives as $1 and the text on stdin. */
export const WRITE_HOSTS_TOML_SCRIPT = `set -eu; d="${CERTS_D}/$1"; mkdir -p "$d"; cat > "$d/hosts.toml.tmp"; mv "$d/hosts.toml.tmp" "$d/hosts.toml"`;

/** The exact argv that writes one hosts.toml into a node (the text goes to standard input). */
export function writeHostsTomlArgv(node: string, hostDir: string): [string, ...string[]] {
  return ["docker", "exec", "-i", node, "sh", "-c", WRITE_HOSTS_TOML_SCRIPT, "sh", hostDir];
}

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

export function checkHostsToml(
  node: string,
  hostDir: string,
  expected: string,
  actual: string | undefined,
  fixCommand: string,
): Verdict {
  const id = `node.hosts-toml@${node}/${hostDir}`;
  const path = `${CERTS_D}/${hostDir}/hosts.toml`;
  const title = `${node} has hosts.toml for ${hostDir}`;
  const deps = [`node.running@${node}`];
  const fix = (what: string) =>
    fixWith(`${what} ${path} on ${node}`, writeHostsTomlArgv(node, hostDir), expected);
  if (actual === undefined) {
    return verdict(
      "fail",
      id,
      title,
      `missing ${path}: containerd on ${node} sends pulls of ${hostDir}/... to ${hostDir} itself`,
      `${fixCommand} (writes the file the component renders)`,
      { dependsOn: deps, fix: fix("wrote") },
    );
  }
  if (actual !== expected) {
    return verdict(
      "fail",
      id,
      title,
      `stale ${path}: ${firstDifference(actual, expected)}`,
      `${fixCommand} (writes the file the component renders)`,
      { dependsOn: deps, fix: fix("rewrote") },
    );
  }
  const endpoint = /\[host\."([^"]+)"\]/.exec(expected)?.[1];
  return pass(id, title, `as the component renders it${endpoint ? ` (-> ${endpoint})` : ""}`, deps);
}

export function checkResolves(
  node: string,
  name: string,
  address: string | undefined,
  network: string | undefined,
  dependsOn: readonly string[],
): Verdict {
  const id = `node.resolve@${node}/${name}`;
  const title = `${node} resolves ${name}`;
  if (address === undefined) {
    return verdict(
      "fail",
      id,
      title,
      `${name} does not resolve inside ${node}`,
      network === undefined
        ? `docker inspect ${name}`
        : `docker network connect ${network} ${name}`,
      { dependsOn: [`node.running@${node}`, ...dependsOn] },
    );
  }
  return pass(id, title, `${name} -> ${address}`, [`node.running@${node}`, ...dependsOn]);
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
  const id = `node.pull@${node}`;
  const title = `${node} pulls through hosts.toml`;
  const deps = [
    `node.running@${node}`,
    "registry.running",
    "registry.network",
    "registry.api",
    `node.containerd@${node}`,
    ...(registryHostDir === undefined ? [] : [`node.hosts-toml@${node}/${registryHostDir}`]),
  ];
  if (probe.image === undefined || probe.result === undefined) {
    return verdict(
      "fail",
      id,
      title,
      probe.pushError === undefined
        ? "not checked: the registry does not answer from the host, so no probe image"
        : `not checked: could not push the probe image: ${probe.pushError}`,
      "npx kind-dev doctor (after the registry checks pass)",
      { dependsOn: deps },
    );
  }
  if (probe.result.code !== 0) {
    return verdict(
      "fail",
      id,
      title,
      `crictl pull ${probe.image}: ${lastLine(probe.result)}`,
      `docker exec ${node} crictl pull ${probe.image}`,
      { dependsOn: deps },
    );
  }
  return pass(
    id,
    title,
    `crictl pull ${probe.image}${probe.seconds === undefined ? "" : ` in ${probe.seconds.toFixed(1)} s`}`,
    deps,
  );
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
  const id = "configmap";
  const title = "ConfigMap kube-public/local-registry-hosting";
  const deps = ["cluster", "kubeconfig", "registry.running"];
  const remedy = "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)";
  if (facts.error !== undefined) {
    return verdict(
      "fail",
      id,
      title,
      `could not read it: ${facts.error}`,
      `kubectl --context kind-${cluster} -n kube-public get configmap local-registry-hosting`,
      { dependsOn: deps },
    );
  }
  if (facts.value === undefined) {
    return verdict(
      "fail",
      id,
      title,
      "does not exist: Tilt, Skaffold and ctlptl cannot discover the registry (KEP-1755)",
      remedy,
      { dependsOn: deps },
    );
  }
  if (expected === undefined) {
    return verdict("fail", id, title, "not compared: the registry is unknown", "pulumi up", {
      dependsOn: deps,
    });
  }
  if (facts.value !== expected) {
    return verdict(
      "fail",
      id,
      title,
      `does not match the registry: ${firstDifference(facts.value, expected)}`,
      remedy,
      { dependsOn: deps },
    );
  }
  const host = /^host: "?([^"\n]*)"?$/m.exec(expected)?.[1] ?? "";
  const inCluster = /^hostFromClusterNetwork: "?([^"\n]*)"?$/m.exec(expected)?.[1] ?? "";
  return pass(id, title, `matches the registry (${host}, ${inCluster})`, deps);
}

export function checkVolume(
  volume: string,
  owner: string,
  exists: boolean,
  bytes: number | undefined,
): Verdict {
  const id = `volume@${volume}`;
  const title = `disk used by ${volume}`;
  if (!exists) {
    return verdict(
      "warn",
      id,
      title,
      `${owner} uses no volume named ${volume}: its data lives in the container`,
      `docker inspect --format '{{json .Mounts}}' ${owner.split(" ").pop() ?? owner}`,
      { dependsOn: ["docker"] },
    );
  }
  if (bytes === undefined) {
    return verdict("warn", id, title, `${owner}: size unknown`, "docker system df -v", {
      dependsOn: ["docker"],
    });
  }
  return pass(id, title, `${formatBytes(bytes)} (${owner})`, ["docker"]);
}

// ---- causes --------------------------------------------------------------------------------

/**
 * Turns verdicts into results: a check that fails or warns while one it depends on fails is
 * marked as following from that check's root cause, and repeats the root's remedy, so the
 * report names each fault once.
 */
export function attributeCauses(verdicts: readonly Verdict[]): CheckResult[] {
  const byId = new Map(verdicts.map((v) => [v.id, v]));
  const roots = new Map<string, string | undefined>();
  const rootOf = (id: string, seen: Set<string>): string | undefined => {
    if (roots.has(id)) {
      return roots.get(id);
    }
    const v = byId.get(id);
    if (v === undefined || v.status === "pass" || seen.has(id)) {
      return undefined;
    }
    seen.add(id);
    let root: string | undefined;
    for (const dep of v.dependsOn ?? []) {
      const d = byId.get(dep);
      if (d?.status === "fail") {
        root = rootOf(dep, seen) ?? dep;
        break;
      }
    }
    roots.set(id, root);
    return root;
  };
  return verdicts.map((v) => {
    const root = v.status === "pass" ? undefined : rootOf(v.id, new Set());
    const rootVerdict = root === undefined ? undefined : byId.get(root);
    const result: CheckResult = {
      id: v.id,
      title: v.title,
      status: v.status,
      detail: v.detail,
      remedy: rootVerdict === undefined ? v.remedy : rootVerdict.remedy,
      ...(root === undefined ? {} : { causedBy: root }),
    };
    return result;
  });
}

/** The doctor's own command line with --fix and the narrowing flags, for remedies. */
export function fixCommandLine(flags: readonly string[]): string {
  return displayCommand(["npx", "kind-dev", "doctor", "--fix", ...flags]);
}
