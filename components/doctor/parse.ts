/**
 * Pure readers of what docker, kind, kubectl and the nodes print. Each takes the raw text and
 * returns plain data, so the checks can be tested on recorded output.
 */

/** The parts of `docker container inspect` the doctor looks at. */
export interface ContainerInfo {
  readonly name: string;
  /** As the container was created: `registry:3`. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `running`, `exited`, `restarting`, `created`, `paused`, `dead`. */
  readonly status: string;
  readonly running: boolean;
  readonly restarting: boolean;
  readonly restartCount: number;
  readonly exitCode: number;
  readonly startedAt: string;
  /** Networks the container is attached to (kept while it is stopped). */
  readonly networks: readonly string[];
  /** Published ports from the host config (also known while it is stopped). */
  readonly ports: readonly {
    /** `5000/tcp`. */
    readonly containerPort: string;
    /** As docker stores it: `127.0.0.1`, `0.0.0.0`, `::1`, or empty for every interface. */
    readonly hostIp: string;
    readonly hostPort: number;
  }[];
  readonly env: Readonly<Record<string, string>>;
  /** Named volumes and where they are mounted. */
  readonly volumes: readonly { readonly name: string; readonly destination: string }[];
  /** The process: entrypoint path, then its arguments. */
  readonly command: readonly string[];
}

/** `record[key]` when the record has that key of its own (a name may be `constructor`). */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * `docker container inspect A B ...` output: a JSON array of the containers that exist (docker
 * prints the ones it found even when it exits 1 for another that does not).
 */
export function parseContainers(stdout: string): ContainerInfo[] {
  const text = stdout.trim();
  const parsed: unknown = text === "" ? [] : JSON.parse(text);
  if (!Array.isArray(parsed)) {
    throw new Error(`docker container inspect printed ${text.slice(0, 80)}, not a JSON array`);
  }
  return parsed.map(record).map((c) => {
    const state = record(c["State"]);
    const config = record(c["Config"]);
    return {
      name: str(c["Name"]).replace(/^\//, ""),
      image: str(config["Image"]),
      labels: { ...(record(config["Labels"]) as Record<string, string>) },
      status: str(state["Status"]),
      running: state["Running"] === true,
      restarting: state["Restarting"] === true,
      restartCount: Number(c["RestartCount"] ?? 0),
      exitCode: Number(state["ExitCode"] ?? 0),
      startedAt: str(state["StartedAt"]),
      networks: Object.keys(record(record(c["NetworkSettings"])["Networks"])).sort(),
      ports: Object.entries(record(record(c["HostConfig"])["PortBindings"])).flatMap(
        ([containerPort, bindings]) =>
          list(bindings)
            .map(record)
            .map((b) => ({
              containerPort,
              hostIp: str(b["HostIp"]),
              hostPort: Number(str(b["HostPort"])),
            })),
      ),
      env: Object.fromEntries(
        list(config["Env"])
          .map(str)
          .flatMap((line) => {
            const eq = line.indexOf("=");
            return eq > 0 ? [[line.slice(0, eq), line.slice(eq + 1)]] : [];
          }),
      ),
      volumes: list(c["Mounts"])
        .map(record)
        .filter((m) => m["Type"] === "volume")
        .map((m) => ({ name: str(m["Name"]), destination: str(m["Destination"]) })),
      command: [c["Path"], ...list(c["Args"])].map(str).filter((a) => a !== ""),
    };
  });
}

/** `kind version`: `kind v0.30.0 go1.24.6 linux/amd64` -> `v0.30.0`. */
export function parseKindVersion(stdout: string): string | undefined {
  return /\bv\d+\.\d+\.\d+\S*/.exec(stdout)?.[0];
}

/** `kubectl version --client -o json` -> `v1.34.0`. */
export function parseKubectlVersion(stdout: string): string | undefined {
  try {
    return str(record(record(JSON.parse(stdout))["clientVersion"])["gitVersion"]) || undefined;
  } catch {
    return parseKindVersion(stdout);
  }
}

/** One name per line, as `kind get clusters` and `kind get nodes` print them. */
export function parseLines(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("No kind clusters found"));
}

export interface NodeCondition {
  readonly ready: boolean;
  /** The Ready condition's reason and message, or `no Ready condition`. */
  readonly reason: string;
}

/** `kubectl get nodes -o json` -> node name -> its Ready condition. */
export function parseNodeConditions(stdout: string): Record<string, NodeCondition> {
  const nodes = list(record(JSON.parse(stdout))["items"]).map(record);
  return Object.fromEntries(
    nodes.map((node) => {
      const conditions = list(record(node["status"])["conditions"]).map(record);
      const ready = conditions.find((c) => c["type"] === "Ready");
      const condition =
        ready === undefined
          ? { ready: false, reason: "no Ready condition" }
          : {
              ready: ready["status"] === "True",
              reason: [str(ready["reason"]), str(ready["message"])].filter((s) => s).join(": "),
            };
      return [str(record(node["metadata"])["name"]), condition];
    }),
  );
}

/** `kubectl get configmap ... -o json` -> the value of one key of its data, empty without one. */
export function parseConfigMapValue(stdout: string, key: string): string {
  return str(record(record(JSON.parse(stdout))["data"])[key]);
}

/** What the doctor reads from a node. */
export interface NodeFiles {
  /** `/etc/containerd/config.toml`, or undefined when it cannot be read. */
  readonly containerdConfig?: string;
  /** Host directory under certs.d -> the text of its `hosts.toml`. */
  readonly hostsToml: Readonly<Record<string, string>>;
}

/** What scripts/hosts-node.sh --list prints: a host directory, then its text, each ended by NUL. */
export function parseHostsList(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/([^\0]*)\0([^\0]*)\0/g)].map((m) => [m[1], m[2]]));
}

/** `getent hosts A B ...` inside a node: name -> address, for the names that resolve. */
export function parseGetent(stdout: string): Record<string, string> {
  const pairs = stdout.split("\n").flatMap((line) => {
    const [address = "", ...names] = line.trim().split(/\s+/);
    return address === "" ? [] : names.map((name) => [name, address] as const);
  });
  // The first address of a name wins.
  return Object.fromEntries(pairs.reverse());
}

/**
 * What containerd's config says about registries: every `config_path` value, and the legacy
 * `registry.mirrors` / `registry.configs` sections (which stop containerd 2.2's CRI plugin from
 * loading next to `config_path`, and are gone in 2.4). A line reader, not a TOML parser: it
 * only needs table headers and one key.
 */
export interface ContainerdRegistryConfig {
  readonly configPaths: readonly string[];
  readonly legacy: readonly string[];
}

export function parseContainerdConfig(text: string): ContainerdRegistryConfig {
  const configPaths: string[] = [];
  const legacy: string[] = [];
  let table = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s+/, "");
    if (line.startsWith("#") || line === "") {
      continue;
    }
    const header = /^\[\[?\s*(.*?)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header?.[1] !== undefined) {
      table = header[1];
      if (/\.registry\.(mirrors|configs)(\.|$)/.test(table) && !legacy.includes(table)) {
        legacy.push(table);
      }
      continue;
    }
    const key = /^([A-Za-z0-9_."-]+?)\s*=\s*(.*)$/.exec(line);
    if (key?.[1] === undefined) {
      continue;
    }
    const fullKey = table === "" ? key[1] : `${table}.${key[1]}`;
    if (/(^|\.)config_path$/.test(key[1])) {
      const value = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(key[2] ?? "");
      configPaths.push(value?.[1] ?? value?.[2] ?? (key[2] ?? "").trim());
    } else if (/\.registry$/.test(table) && /^(mirrors|configs)$/.test(key[1])) {
      legacy.push(fullKey);
    }
  }
  return { configPaths, legacy };
}

/**
 * `docker system df -v --format '{{json .Volumes}}'` -> volume name -> size in bytes, null when
 * docker shows none.
 */
export function parseVolumeSizes(stdout: string): Record<string, number | null> {
  const text = stdout.trim();
  const volumes = list(text === "" ? [] : JSON.parse(text)).map(record);
  return Object.fromEntries(
    volumes.map((v) => [str(v["Name"]), parseHumanSize(str(v["Size"])) ?? null]),
  );
}

/** Docker's decimal units, each 1000 times the one before. */
const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/**
 * Docker's human sizes (go-units HumanSize: decimal units, 4 significant digits): `63.39MB` ->
 * 63390000. Undefined for `N/A` and anything else it cannot read.
 */
export function parseHumanSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kKMGTP]?B)$/.exec(text.trim());
  return m?.[1] === undefined
    ? undefined
    : Math.round(Number(m[1]) * 1000 ** UNITS.indexOf((m[2] ?? "").replace("K", "k")));
}

/** `1 node`, `2 nodes`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Bytes as people read them, in decimal units like docker: `63.4 MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1000 && i < 4) {
    value /= 1000;
    i++;
  }
  const shown = i === 0 ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 0 : 1);
  return `${shown} ${UNITS[i]}`;
}

/**
 * From a container's log, the line that says why it stopped: the last `panic:` line (a Go
 * stack trace follows it), else the last line that mentions an error, else the last line.
 */
export function tellingLine(log: string): string {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const panics = lines.filter((l) => l.startsWith("panic:"));
  const errors = lines.filter((l) => /fatal|error/i.test(l));
  return (panics.pop() ?? errors.pop() ?? lines.pop() ?? "").slice(0, 240);
}
