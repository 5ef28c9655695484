/**
 * The shell scripts the component's commands run (`@pulumi/command` runs them with `/bin/sh -c`).
 * Each script is a constant file in `scripts/`, checked by ShellCheck; the values it works on
 * (names, TOML, the kind config, credentials) arrive as environment variables and are only ever
 * expanded inside double quotes, so no argument can change what a script does. This module reads
 * the files and renders each script's environment.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  type ContainerSpec,
  LABEL_UPSTREAM,
  type PublishedPort,
  specHash,
} from "./render/containers";
import type { ContainerState } from "./lookup";
import type { HostsFile } from "./render/hostsToml";
import { urlHost } from "./render/text";

/** A script to run and the environment it reads: what a command of the component executes. */
export interface Script {
  readonly create: string;
  /** Runs instead of `create` when only the script text changed. */
  readonly update?: string;
  readonly delete?: string;
  readonly environment: Readonly<Record<string, string>>;
}

/** `scripts/` next to this module (components/ in the repository, dist/ once built). */
const SCRIPTS_DIR = path.join(__dirname, "scripts");

const cache = new Map<string, string>();

function readScript(file: string): string {
  return readFileSync(path.join(SCRIPTS_DIR, `${file}.sh`), "utf8");
}

/** Ends the quoted here-document that carries scripts/hosts-node.sh (see loadScript). */
const NODE_SCRIPT_END = "KIND_DEV_NODE_SCRIPT";

/**
 * `set -eu`, the shared functions of lib.sh, then scripts/NAME.sh: the text a command runs.
 * With `nodeScript`, that file (a script that runs inside a node) comes before NAME.sh as the
 * function `node_script`, which prints it: a quoted here-document, so nothing in it is expanded
 * on the host.
 */
export function loadScript(name: string, nodeScript?: string): string {
  const key = `${name}+${nodeScript ?? ""}`;
  let text = cache.get(key);
  if (text === undefined) {
    let embedded = "";
    if (nodeScript !== undefined) {
      const body = readScript(nodeScript);
      if (body.split("\n").includes(NODE_SCRIPT_END)) {
        throw new Error(`scripts/${nodeScript}.sh contains the line ${NODE_SCRIPT_END}`);
      }
      embedded = `node_script() {\n  cat <<'${NODE_SCRIPT_END}'\n${body}${body.endsWith("\n") ? "" : "\n"}${NODE_SCRIPT_END}\n}\n`;
    }
    text = `set -eu\n${readScript("lib")}\n${embedded}${readScript(name)}`;
    cache.set(key, text);
  }
  return text;
}

/** Creates the docker network unless it exists; removes it on delete only when asked to. */
export function networkScript(network: string, removeOnDelete: boolean): Script {
  return {
    create: loadScript("network-ensure"),
    ...(removeOnDelete ? { delete: loadScript("network-remove") } : {}),
    environment: { NETWORK: network },
  };
}

/** Names of environment variables the container gets (values travel in the environment). */
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** `docker run --publish` value; IPv6 addresses go in brackets. */
export function publishArg(port: PublishedPort): string {
  return `${urlHost(port.hostIp)}:${port.hostPort}:${port.containerPort}`;
}

export interface RegistryContainerScriptInput {
  readonly spec: ContainerSpec;
  /** Registry URL polled from the host after start; caches are not probed. */
  readonly probeUrl?: string;
  /** Seconds the probe waits for the registry. Default 60. */
  readonly attempts?: number;
  /** Secret variables (cache credentials): their values go in the environment and the fingerprint. */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** What the program's lookup found (lookup.ts). */
  readonly state: ContainerState;
  readonly removeOnDelete: boolean;
  /**
   * The stack's own kind cluster, deleted alongside on destroy: with removeOnDelete, its nodes
   * do not count as users that keep the container (scripts/registry-remove.sh).
   */
  readonly ownCluster?: string;
}

/**
 * Makes one registry or cache container exist as specified, on its named volume (see
 * scripts/registry-ensure.sh for what it keeps, replaces or refuses). The fingerprint covers the
 * spec and the secret values, so a changed credential replaces the container too.
 */
export function registryContainerScript(input: RegistryContainerScriptInput): Script {
  return {
    ...registryContainerTexts(input.removeOnDelete),
    environment: registryContainerEnvironment(input),
  };
}

/** The constant texts of registryContainerScript: they depend on nothing but retention. */
export function registryContainerTexts(removeOnDelete: boolean): Omit<Script, "environment"> {
  return {
    create: loadScript("registry-ensure"),
    ...(removeOnDelete ? { delete: loadScript("registry-remove") } : {}),
  };
}

/** The environment of registryContainerScript. */
export function registryContainerEnvironment(
  input: RegistryContainerScriptInput,
): Record<string, string> {
  const { spec, secretEnv } = input;
  const envNames = [...Object.keys(spec.env), ...Object.keys(secretEnv)].sort();
  for (const name of envNames) {
    if (!ENV_NAME.test(name)) {
      throw new Error(`invalid container environment variable name ${JSON.stringify(name)}`);
    }
  }
  const port = spec.ports[0];
  return {
    ...spec.env,
    ...secretEnv,
    CONTAINER: spec.name,
    IMAGE: spec.image,
    NETWORK: spec.network,
    VOLUME: spec.volume,
    ROLE: spec.role,
    SPEC: specHash(spec, secretEnv),
    UPSTREAM: spec.labels[LABEL_UPSTREAM] ?? "",
    PUBLISH: port === undefined ? "" : publishArg(port),
    ENV_NAMES: envNames.join(" "),
    PROBE_URL: input.probeUrl ?? "",
    ATTEMPTS: String(input.attempts ?? 60),
    // Why: a registry container removed by hand while its volume stayed is still "created" in
    // Pulumi's state, so nothing would run its script again. The program's lookup sees it gone
    // and flips this value; the changed environment updates the command in place, which runs
    // the ensure script again and brings the container back on its volume. (A trigger would
    // replace the command, and the delete step of a non-retained one would drop the volume.)
    REPAIR: input.state === "missing" ? "recreate" : "ok",
    ...(input.removeOnDelete ? { OWN_CLUSTER: input.ownCluster ?? "" } : {}),
  };
}

/**
 * Creates the kind cluster; deletes it on delete; an update (only the script text changed, the
 * config did not) checks it is still there.
 */
export function clusterScript(cluster: string, network: string, kindConfig: string): Script {
  return {
    create: loadScript("cluster-create"),
    update: loadScript("cluster-update"),
    delete: loadScript("cluster-delete"),
    environment: {
      CLUSTER: cluster,
      KIND_CONFIG: kindConfig,
      ...(network === "kind" ? {} : { KIND_EXPERIMENTAL_DOCKER_NETWORK: network }),
    },
  };
}

/**
 * The environment variable that carries one file's text to its node's command: the file's
 * slug in capitals, `docker-io` -> `HOSTS_TOML_DOCKER_IO`.
 */
export function hostsFileEnvName(file: Pick<HostsFile, "slug">): string {
  return `HOSTS_TOML_${file.slug.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * The environment of a node's `hosts.toml` command: `NODE`; one variable per file holding its
 * text (hostsFileEnvName), so that a preview's diff names the file that changes; and `HOSTS`,
 * one line per file, `VARIABLE HOST_DIR`, in plan order. Throws when two files would share a
 * variable.
 */
export function hostsEnvironment(
  node: string,
  files: readonly HostsFile[],
): Record<string, string> {
  const environment: Record<string, string> = { NODE: node };
  let hosts = "";
  for (const file of files) {
    const name = hostsFileEnvName(file);
    if (name in environment) {
      throw new Error(
        `hosts.toml files for ${JSON.stringify(file.hostDir)} and another host share the variable ${name}`,
      );
    }
    environment[name] = file.toml;
    hosts += `${name} ${file.hostDir}\n`;
  }
  environment["HOSTS"] = hosts;
  return environment;
}

/**
 * Makes one node hold exactly these `hosts.toml` files, in one `docker exec`: writes the files
 * whose text differs, removes the directories it wrote before that the list no longer names
 * (the node keeps a manifest of them, `/etc/containerd/certs.d/.kind-dev-managed`), never
 * touches a directory it did not write. On delete it removes what the manifest lists, if the
 * node still exists. See scripts/hosts-sync.sh and scripts/hosts-node.sh.
 */
export function hostsScript(node: string, files: readonly HostsFile[]): Script {
  return {
    create: loadScript("hosts-sync", "hosts-node"),
    delete: loadScript("hosts-clear", "hosts-node"),
    environment: hostsEnvironment(node, files),
  };
}

/**
 * Writes one `hosts.toml` into one node, with no manifest; on delete removes its directory if
 * the node still exists. What version 0.1 ran as one command per node and file.
 * @deprecated The component runs hostsScript, one command per node. Kept for tests that write
 * files one at a time.
 */
export function hostsTomlScript(node: string, hostDir: string, toml: string): Script {
  return {
    create: loadScript("hosts-write"),
    delete: loadScript("hosts-remove"),
    environment: { NODE: node, HOST_DIR: hostDir, HOSTS_TOML: toml },
  };
}
