/**
 * What a tool actually set up, read back from Docker, the nodes and the cluster after it ran:
 * the feature table of benchmark 4 (this component next to ctlptl). Nothing here is a claim
 * about a tool; every field comes from an inspection.
 */
import { parse } from "yaml";
import { run, tryRun } from "../support/bed";
import { PAUSE, MARKER_REPO } from "./context";

export interface HostsEntry {
  /** The directory under /etc/containerd/certs.d (the registry host it configures). */
  host: string;
  /** The `[host."URL"]` endpoints (and `server`), in file order. */
  endpoints: string[];
}

export interface Features {
  tool: string;
  registry: string;
  /** Where the registry keeps its data: a named volume, an anonymous one, a bind, or none. */
  registryStorage: string;
  /** hosts.toml hosts per node. */
  hostsToml: Record<string, HostsEntry[]>;
  /** Pull-through caches the nodes use: one per upstream host. */
  caches: { upstream: string; container: string; remoteUrl: string }[];
  /** Fields of kube-public/local-registry-hosting's localRegistryHosting.v1 (KEP-1755). */
  kep1755: Record<string, string>;
  /** A marker pushed before the cluster was deleted was served after it was recreated. */
  keptAcrossClusterDeletion?: boolean;
  /** How the cluster was deleted and recreated for that check. */
  deletedWith?: string;
}

function registryStorage(container: string): string {
  const r = tryRun("docker", ["inspect", "-f", "{{json .Mounts}}", container]);
  if (!r.ok) {
    return "no registry container";
  }
  const mounts = JSON.parse(r.out) as {
    Type: string;
    Name?: string;
    Source: string;
    Destination: string;
  }[];
  const m = mounts.find((x) => x.Destination === "/var/lib/registry");
  if (!m) {
    return "none: the container's own layer";
  }
  if (m.Type === "volume") {
    return /^[0-9a-f]{64}$/.test(m.Name ?? "")
      ? "anonymous volume (the image's VOLUME)"
      : `named volume \`${m.Name}\``;
  }
  return `${m.Type} mount of ${m.Source}`;
}

/** The hosts.toml files on one node: host directory and the endpoints each names. */
export function nodeHostsToml(node: string): HostsEntry[] {
  const out = run("docker", [
    "exec",
    node,
    "sh",
    "-c",
    'for f in /etc/containerd/certs.d/*/hosts.toml; do [ -f "$f" ] && echo "== $f" && cat "$f"; done; true',
  ]);
  const entries: HostsEntry[] = [];
  for (const chunk of out.split(/^== /m).slice(1)) {
    const [head = "", ...body] = chunk.split("\n");
    const host = head.replace(/^\/etc\/containerd\/certs\.d\//, "").replace(/\/hosts\.toml$/, "");
    const endpoints: string[] = [];
    for (const line of body) {
      const h = /^\s*\[host\."([^"]+)"\]/.exec(line);
      const s = /^\s*server\s*=\s*"([^"]+)"/.exec(line);
      const e = h?.[1] ?? s?.[1];
      if (e && !endpoints.includes(e)) {
        endpoints.push(e);
      }
    }
    entries.push({ host, endpoints });
  }
  return entries.sort((a, b) => a.host.localeCompare(b.host));
}

function proxyRemoteUrl(container: string): string | undefined {
  const r = tryRun("docker", ["inspect", "-f", "{{json .Config.Env}}", container]);
  if (!r.ok) {
    return undefined;
  }
  const env = JSON.parse(r.out) as string[];
  return env.find((e) => e.startsWith("REGISTRY_PROXY_REMOTEURL="))?.split("=", 2)[1];
}

function kep1755(kubeconfig: string): Record<string, string> {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    kubeconfig,
    "get",
    "configmap",
    "-n",
    "kube-public",
    "local-registry-hosting",
    "-o",
    "jsonpath={.data.localRegistryHosting\\.v1}",
  ]);
  if (!r.ok || r.out.trim() === "") {
    return {};
  }
  const doc = parse(r.out) as Record<string, unknown> | null;
  return Object.fromEntries(Object.entries(doc ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Reads back what `tool` set up: its registry container, the nodes' hosts.toml, the ConfigMap. */
export function inspectTool(
  tool: string,
  registry: string,
  nodes: string[],
  kubeconfig: string,
): Features {
  const hostsToml = Object.fromEntries(nodes.map((n) => [n, nodeHostsToml(n)]));
  const caches: Features["caches"] = [];
  for (const e of Object.values(hostsToml).flat()) {
    for (const url of e.endpoints) {
      const container = /^https?:\/\/([^:/]+)/.exec(url)?.[1];
      const remoteUrl = container ? proxyRemoteUrl(container) : undefined;
      if (container && remoteUrl && !caches.some((c) => c.upstream === e.host)) {
        caches.push({ upstream: e.host, container, remoteUrl });
      }
    }
  }
  return {
    tool,
    registry,
    registryStorage: registryStorage(registry),
    hostsToml,
    caches,
    kep1755: kep1755(kubeconfig),
  };
}

/** Pushes a small marker image to the registry published on 127.0.0.1:`port`. */
export function pushMarker(port: number): void {
  const ref = `localhost:${port}/${MARKER_REPO}:1`;
  run("docker", ["tag", PAUSE, ref]);
  run("docker", ["push", "-q", ref]);
  tryRun("docker", ["rmi", ref]);
}

/** True when the registry on 127.0.0.1:`port` serves the marker's manifest. */
export function markerServed(port: number): boolean {
  return tryRun("curl", [
    "-fsS",
    "-o",
    "/dev/null",
    "-H",
    "Accept: application/vnd.docker.distribution.manifest.v2+json",
    `http://127.0.0.1:${port}/v2/${MARKER_REPO}/manifests/1`,
  ]).ok;
}
