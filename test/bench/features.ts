/**
 * What a tool actually set up, read back from Docker, the nodes and the cluster after it ran:
 * the feature table (the component next to ctlptl). Every field comes from an inspection.
 */
import { parse } from "yaml";
import { run, tryRun } from "../support/bed";
import { MARKER_REPO, PAUSE, tryKubectl } from "./context";

export interface Features {
  tool: string;
  registry: string;
  /** Where the registry keeps its data: a named volume, an anonymous one, a bind, or none. */
  registryStorage: string;
  /** Per node: each certs.d host directory and the endpoints its hosts.toml names. */
  hostsToml: Record<string, { host: string; endpoints: string[] }[]>;
  /** Pull-through caches the nodes use: one per upstream host. */
  caches: { upstream: string; container: string; remoteUrl: string }[];
  /** Fields of kube-public/local-registry-hosting's localRegistryHosting.v1 (KEP-1755). */
  kep1755: Record<string, string>;
  /** A marker pushed before the cluster was deleted was served after it was recreated. */
  keptAcrossClusterDeletion?: boolean;
  deletedWith?: string;
}

function inspect<T>(container: string, field: string): T | undefined {
  const r = tryRun("docker", ["inspect", "-f", `{{json ${field}}}`, container]);
  return r.ok ? (JSON.parse(r.out) as T) : undefined;
}

function registryStorage(container: string): string {
  type Mount = { Type: string; Name?: string; Source: string; Destination: string };
  const mounts = inspect<Mount[]>(container, ".Mounts");
  const m = mounts?.find((x) => x.Destination === "/var/lib/registry");
  if (mounts === undefined) {
    return "no registry container";
  }
  if (!m) {
    return "none: the container's own layer";
  }
  if (m.Type !== "volume") {
    return `${m.Type} mount of ${m.Source}`;
  }
  return /^[0-9a-f]{64}$/.test(m.Name ?? "")
    ? "anonymous volume (the image's VOLUME)"
    : `named volume \`${m.Name}\``;
}

function nodeHostsToml(node: string): Features["hostsToml"][string] {
  const script =
    'for f in /etc/containerd/certs.d/*/hosts.toml; do [ -f "$f" ] && echo "== $f" && cat "$f"; done; true';
  return run("docker", ["exec", node, "sh", "-c", script])
    .split(/^== /m)
    .slice(1)
    .map((chunk) => {
      const [head = "", ...body] = chunk.split("\n");
      const endpoints = body
        .map((l) => /^\s*(?:\[host\.|server\s*=\s*)"([^"]+)"/.exec(l)?.[1])
        .filter((e): e is string => e !== undefined);
      const host = head.replace(/^\/etc\/containerd\/certs\.d\/|\/hosts\.toml$/g, "");
      return { host, endpoints: [...new Set(endpoints)] };
    })
    .sort((a, b) => a.host.localeCompare(b.host));
}

function kep1755(kubeconfig: string): Record<string, string> {
  const r = tryKubectl(
    ...[kubeconfig, "get", "configmap", "-n", "kube-public", "local-registry-hosting", "-o"],
    "jsonpath={.data.localRegistryHosting\\.v1}",
  );
  const doc = r.ok ? (parse(r.out) as Record<string, unknown> | null) : null;
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
      const container = /^https?:\/\/([^:/]+)/.exec(url)?.[1] ?? "";
      const remoteUrl = inspect<string[]>(container, ".Config.Env")
        ?.find((x) => x.startsWith("REGISTRY_PROXY_REMOTEURL="))
        ?.split("=", 2)[1];
      if (remoteUrl !== undefined && !caches.some((c) => c.upstream === e.host)) {
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
  const accept = "Accept: application/vnd.docker.distribution.manifest.v2+json";
  const url = `http://127.0.0.1:${port}/v2/${MARKER_REPO}/manifests/1`;
  return tryRun("curl", ["-fsS", "-o", "/dev/null", "-H", accept, url]).ok;
}
