/**
 * The doctor's third step: every check's verdict (checks.ts) as a pure function of the facts
 * gathered (facts.ts) and of the targets chosen from them (environment.ts chooseTargets); then
 * each fault named once, with its root cause's remedy (attributeCauses).
 */
import { displayCommand } from "../exec";
import {
  checkCacheUpstream,
  checkCluster,
  checkConfigMap,
  checkContainerd,
  checkHostsToml,
  checkKubeconfig,
  checkNoRegistry,
  checkNodeReady,
  checkOnNetwork,
  checkPull,
  checkRegistryApi,
  checkRegistryLabel,
  checkRegistryPublished,
  checkResolves,
  checkRunning,
  checkTool,
  checkVolume,
  type CheckResult,
  NARROWING,
  notChecked,
  type Verdict,
  writeHostsCommand,
} from "./checks";
import { chooseTargets, type Targets } from "./environment";
import type { Facts, Found, Narrowing } from "./facts";
import { own, parseContainerdConfig } from "./parse";

/**
 * Turns verdicts into results: a check that fails or warns while one it depends on fails is
 * marked as following from that check's root cause, and repeats the root's remedy, so the
 * report names each fault once.
 */
export function attributeCauses(verdicts: readonly Verdict[]): CheckResult[] {
  const byId = new Map(verdicts.map((v) => [v.id, v]));
  const rootOf = (id: string, seen = new Set<string>()): string | undefined => {
    const v = byId.get(id);
    const dep = v?.dependsOn?.find((d) => byId.get(d)?.status === "fail");
    if (v === undefined || v.status === "pass" || dep === undefined || seen.has(id)) {
      return undefined;
    }
    return rootOf(dep, seen.add(id)) ?? dep;
  };
  return verdicts.map((v) => {
    const root = rootOf(v.id);
    return {
      id: v.id,
      title: v.title,
      status: v.status,
      detail: v.detail,
      remedy: (root === undefined ? v : byId.get(root))?.remedy ?? v.remedy,
      ...(root === undefined ? {} : { causedBy: root }),
    };
  });
}

/** The doctor's own command line for remedies: --fix plus the flags the user narrowed with. */
export function fixCommand(requested: Narrowing): string {
  const flags = NARROWING.flatMap((k) =>
    requested[k] === undefined ? [] : [`--${k}`, requested[k]],
  );
  return displayCommand(["npx", "kind-dev", "doctor", "--fix", ...flags]);
}

/** The verdicts of the checks that apply: undefined stands for one that does not. */
function applying(list: readonly (Verdict | undefined)[]): Verdict[] {
  return list.filter((v): v is Verdict => v !== undefined);
}

/** Every check's verdict, in the report's order: tools, cluster, registry, caches, nodes, the rest. */
export function judge(facts: Facts): Verdict[] {
  const tools = (["docker", "kind", "kubectl"] as const).map((id) =>
    checkTool(id, facts.tools[id]),
  );
  const found = facts.found;
  if (found === undefined || tools[0]?.status === "fail") {
    return tools;
  }
  const t = chooseTargets(facts.requested, found);
  const cluster = t.cluster.name;
  const fix = fixCommand(facts.requested);
  const hasVolume = (v: string) => Object.hasOwn(found.volumes ?? {}, v);
  return applying([
    ...tools,
    checkCluster({ ...t.cluster, nodes: found.nodes, network: t.network }),
    cluster === undefined || found.kubeconfig === undefined
      ? undefined
      : checkKubeconfig(cluster, found.kubeconfig),
    "error" in t.expected
      ? {
          id: "expected",
          title: "names fit the component",
          status: "fail",
          detail: `the registry and caches found are not ones the component makes: ${t.expected.error}`,
          remedy: "npx kind-dev doctor --registry <container> --cluster <name>",
        }
      : undefined,
    ...judgeRegistry(found, t, hasVolume(t.registry?.volume ?? "")),
    ...t.caches.flatMap((cache) => [
      checkRunning("cache", cache, hasVolume(cache.volume), own(found.logs, cache.name)),
      cache.container &&
        checkOnNetwork(
          `cache.network@${cache.name}`,
          `cache ${cache.name} on the cluster's network`,
          cache.container,
          t.network,
          [`cache.running@${cache.name}`],
        ),
      checkCacheUpstream(cache, t.network, own(found.upstreams, cache.name) ?? {}),
    ]),
    ...found.nodes.flatMap((node) => judgeNode(node, found, t, fix)),
    cluster === undefined
      ? undefined
      : checkConfigMap(
          cluster,
          found.configMap,
          t.registry?.port === undefined || "error" in t.expected
            ? undefined
            : t.expected.localRegistryHosting,
        ),
    ...judgeVolumes(found, t),
  ]);
}

function judgeRegistry(found: Found, t: Targets, volumeExists: boolean): Verdict[] {
  const registry = t.registry;
  if (registry === undefined) {
    return [checkNoRegistry(t.network)];
  }
  const running = checkRunning("registry", registry, volumeExists, own(found.logs, registry.name));
  const c = registry.container;
  return c === undefined
    ? [running]
    : [
        running,
        checkRegistryLabel(c),
        checkOnNetwork("registry.network", "registry on the cluster's network", c, t.network, [
          "registry.running",
        ]),
        checkRegistryPublished(c),
        checkRegistryApi(c, found.registryApi),
      ];
}

function judgeNode(node: string, found: Found, t: Targets, fix: string): Verdict[] {
  const container = found.nodeContainers.find((c) => c.name === node);
  const running = checkRunning("node", { name: node, ...(container ? { container } : {}) });
  const cluster = t.cluster.name;
  const api = found.apiNodes;
  const ready =
    cluster === undefined
      ? undefined
      : checkNodeReady(
          node,
          cluster,
          "conditions" in api ? own(api.conditions, node) : undefined,
          "error" in api ? api.error : undefined,
          container?.running === true,
        );
  const files = own(found.nodeFiles, node);
  if (files === undefined) {
    const reason =
      running.status === "pass"
        ? `could not read ${node}'s files with docker exec`
        : `${node} is not running`;
    const unread = (id: string, title: string) =>
      notChecked(id, title, reason, [`node.running@${node}`]);
    return applying([
      running,
      ready,
      unread(`node.containerd@${node}`, `containerd on ${node} reads hosts.toml`),
      ...t.expectedHosts.map((f) =>
        unread(`node.hosts-toml@${node}/${f.hostDir}`, `${node} has hosts.toml for ${f.hostDir}`),
      ),
    ]);
  }
  // --fix writes every file of the node, as the component's command does, or none.
  const write =
    "error" in t.expected || t.expectedHosts.length < t.expected.hostsFiles.length
      ? undefined
      : writeHostsCommand(node, t.expected.hostsFiles);
  const addresses = own(found.resolved, node) ?? {};
  const resolves = (name: string, deps: readonly string[]) =>
    checkResolves(node, name, own(addresses, name), t.network, deps);
  const registry = t.registry;
  const config = files.containerdConfig;
  return applying([
    running,
    ready,
    checkContainerd(node, config === undefined ? undefined : parseContainerdConfig(config)),
    ...t.expectedHosts.map((f) =>
      checkHostsToml(node, f.hostDir, f.toml, own(files.hostsToml, f.hostDir), fix, write),
    ),
    registry && resolves(registry.name, ["registry.running", "registry.network"]),
    ...t.caches.map((c) =>
      resolves(c.name, [`cache.running@${c.name}`, `cache.network@${c.name}`]),
    ),
    checkPull(
      node,
      registry?.port === undefined ? undefined : `localhost:${registry.port}`,
      own(found.pulls, node) ?? {},
    ),
  ]);
}

/** The registry's and each cache's volume; a container gone with its volume is reported once. */
function judgeVolumes(found: Found, t: Targets): Verdict[] {
  const sizes = found.volumes ?? {};
  const owners = [
    ...(t.registry === undefined ? [] : [{ ...t.registry, owner: `registry ${t.registry.name}` }]),
    ...t.caches.map((c) => ({ ...c, owner: `cache ${c.name}` })),
  ];
  return owners
    .filter((o) => Object.hasOwn(sizes, o.volume) || o.container !== undefined)
    .map((o) =>
      checkVolume(
        o.volume,
        o.owner,
        Object.hasOwn(sizes, o.volume) || found.volumes === null,
        own(sizes, o.volume) ?? undefined,
      ),
    );
}
