/**
 * The shell scripts the component's commands run (`@pulumi/command` runs them with `/bin/sh -c`).
 * Each script is a constant file in `scripts/`, checked by ShellCheck; the values it works on
 * (names, TOML, the kind config, credentials) arrive as environment variables and are only ever
 * expanded inside double quotes, so no argument can change what a script does. This module reads
 * the files and renders each script's environment.
 *
 * A command's `create`, `update` and `delete` are short lines (stepLine) that run the script
 * text its environment carries (STEP_VARIABLES). The command provider quotes the whole line in
 * the error of a step that fails, and `pulumi up` prints that error several times: a line of a
 * few dozen characters where it used to be a script of several KB. The texts still take part
 * in the diff (a new script text updates the command in place), and the provider runs a delete
 * step with the environment recorded in the state, so with the text that went with it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  type ContainerSpec,
  describeSettings,
  HELPER_PATH,
  LABEL_UPSTREAM,
  type PublishedPort,
  specHash,
} from "./render/containerSpecs";
import type { ContainerState } from "./lookup";
import type { HostsFile } from "./render/hostsToml";
import { urlHost } from "./render/text";

/** What a command of the component executes: its steps' lines and their environment. */
export interface Script {
  /** stepLine of the script the command runs when created (and updated, without `update`). */
  readonly create: string;
  /** Runs instead of `create` when only the script text changed. */
  readonly update?: string;
  readonly delete?: string;
  /** The values the scripts read, and each step's script text (STEP_VARIABLES). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The steps of a `local.Command`. */
export type Step = "create" | "update" | "delete";

const STEPS: readonly Step[] = ["create", "update", "delete"];

/** The environment variable that carries each step's script text. */
export const STEP_VARIABLES: Readonly<Record<Step, string>> = {
  create: "KIND_DEV_CREATE",
  update: "KIND_DEV_UPDATE",
  delete: "KIND_DEV_DELETE",
};

/**
 * The command line of one step: `exec /bin/sh -c "${KIND_DEV_CREATE:?}" registry-ensure.sh`.
 * A shell of its own runs the text, as `/bin/sh -c TEXT` did when the text was the line, with
 * the file's name as `$0`, so the shell's own errors start with it (`cluster-create.sh: 57:
 * ...`); `exec` passes the script's exit status on. `:?` fails the step when the variable is
 * missing or empty, where it would otherwise run nothing and succeed.
 */
export function stepLine(step: Step, file: string): string {
  return `exec /bin/sh -c "\${${STEP_VARIABLES[step]}:?}" ${file}.sh`;
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

/** The script file each step of a command runs: scripts/NAME.sh, named without `.sh`. */
export interface StepFiles {
  readonly create: string;
  readonly update?: string;
  readonly delete?: string;
  /** A script that runs inside a node, embedded in every step's text (loadScript). */
  readonly nodeScript?: string;
}

/** The steps' command lines (stepLine): they depend on the file names alone. */
export function stepLines(files: StepFiles): Omit<Script, "environment"> {
  return {
    create: stepLine("create", files.create),
    ...(files.update === undefined ? {} : { update: stepLine("update", files.update) }),
    ...(files.delete === undefined ? {} : { delete: stepLine("delete", files.delete) }),
  };
}

/**
 * A command's steps: their lines, and an environment of `values` (what the scripts read) and
 * each step's text (loadScript) under its STEP_VARIABLES name. Throws when a value would take
 * the name of a step's variable.
 */
export function scriptSteps(files: StepFiles, values: Readonly<Record<string, string>>): Script {
  const environment: Record<string, string> = { ...values };
  for (const step of STEPS) {
    const variable = STEP_VARIABLES[step];
    if (variable in values) {
      throw new Error(`the environment variable ${variable} carries a script and cannot be set`);
    }
    const file = files[step];
    if (file !== undefined) {
      environment[variable] = loadScript(file, files.nodeScript);
    }
  }
  return { ...stepLines(files), environment };
}

/** Creates the docker network unless it exists; removes it on delete only when asked to. */
export function networkScript(network: string, removeOnDelete: boolean): Script {
  return scriptSteps(
    { create: "network-ensure", ...(removeOnDelete ? { delete: "network-remove" } : {}) },
    { NETWORK: network },
  );
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
  /** Secret variables (cache credentials): values in the environment only (see specHash). */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** What the program's lookup found (lookup.ts). */
  readonly state: ContainerState;
  /** The REPAIR value a present container was started with (its LABEL_REPAIR), if any. */
  readonly repairMark?: string;
  /** When a repair is due: makes its REPAIR value unlike any before. Default: now. */
  readonly now?: Date;
  readonly removeOnDelete: boolean;
  /**
   * The stack's own kind cluster, deleted alongside on destroy: with removeOnDelete, its nodes
   * do not count as users that keep the container (scripts/registry-remove.sh).
   */
  readonly ownCluster?: string;
  /** `<project>/<stack>`: labels the containers this stack creates (LABEL_OWNER). */
  readonly owner?: string;
}

/**
 * Makes one registry or cache container exist as specified, on its named volume (see
 * scripts/registry-ensure.sh for what it keeps, replaces or refuses).
 */
export function registryContainerScript(input: RegistryContainerScriptInput): Script {
  return scriptSteps(
    registryContainerFiles(input.removeOnDelete),
    registryContainerEnvironment(input),
  );
}

function registryContainerFiles(removeOnDelete: boolean): StepFiles {
  return { create: "registry-ensure", ...(removeOnDelete ? { delete: "registry-remove" } : {}) };
}

/** The lines of registryContainerScript: they depend on nothing but retention. */
export function registryContainerLines(removeOnDelete: boolean): Omit<Script, "environment"> {
  return stepLines(registryContainerFiles(removeOnDelete));
}

/** The values registryContainerScript's scripts read (its environment less the script texts). */
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
  const secretNames = Object.keys(secretEnv).sort();
  return {
    ...spec.env,
    ...secretEnv,
    CONTAINER: spec.name,
    IMAGE: spec.image,
    NETWORK: spec.network,
    VOLUME: spec.volume,
    ROLE: spec.role,
    SPEC: specHash(spec, secretNames),
    SETTINGS: describeSettings(spec, secretNames),
    SECRET_NAMES: secretNames.join(" "),
    OWNER: input.owner ?? "",
    UPSTREAM: spec.labels[LABEL_UPSTREAM] ?? "",
    PUBLISH: port === undefined ? "" : publishArg(port),
    ENV_NAMES: envNames.join(" "),
    PROBE_URL: input.probeUrl ?? "",
    ATTEMPTS: String(input.attempts ?? 60),
    // Only with a helper: every other container's command keeps its environment.
    ...(spec.helper === undefined
      ? {}
      : { HELPER: `type=bind,source=${spec.helper},target=${HELPER_PATH},readonly` }),
    // Why: a registry container removed by hand while its volume stayed is still "created" in
    // Pulumi's state, so nothing would run its script again. The program's lookup sees it gone
    // and flips this value; the changed environment updates the command in place, which runs
    // the ensure script again and brings the container back on its volume. (A trigger would
    // replace the command, and the delete step of a non-retained one would drop the volume.)
    // The script labels the container with the value it ran with, and the lookup reads it
    // back, so the run after a repair sees the same value and changes nothing; each repair
    // gets a value of its own (its time), so a second removal is seen too.
    REPAIR:
      input.state === "missing"
        ? `recreate@${(input.now ?? new Date()).toISOString()}`
        : input.state === "present" && input.repairMark
          ? input.repairMark
          : "ok",
    ...(input.removeOnDelete ? { OWN_CLUSTER: input.ownCluster ?? "" } : {}),
  };
}

/** The kind cluster's steps: create, delete, and an update that checks it is still there. */
export function clusterScript(
  cluster: string,
  network: string,
  kindConfig: string,
  nodeImage?: string,
): Script {
  return scriptSteps(
    { create: "cluster-create", update: "cluster-update", delete: "cluster-delete" },
    {
      CLUSTER: cluster,
      KIND_CONFIG: kindConfig,
      ...(network === "kind" ? {} : { KIND_EXPERIMENTAL_DOCKER_NETWORK: network }),
      // Also in KIND_CONFIG; here so that the script can check it is there before kind runs.
      ...(nodeImage === undefined ? {} : { NODE_IMAGE: nodeImage }),
    },
  );
}

/**
 * The variables of clusterScript that say which cluster it makes: a change of any of them
 * replaces the cluster (cluster.ts). Every other variable of its environment is a script text.
 */
export const CLUSTER_IDENTITY: readonly string[] = [
  "CLUSTER",
  "KIND_CONFIG",
  "KIND_EXPERIMENTAL_DOCKER_NETWORK",
];

/**
 * The environment variable that carries one file's text to its node's command: the file's
 * slug in capitals, `docker-io` -> `HOSTS_TOML_DOCKER_IO`.
 */
export function hostsFileEnvName(file: Pick<HostsFile, "slug">): string {
  return `HOSTS_TOML_${file.slug.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * The values a node's `hosts.toml` command reads: `NODE`; one variable per file holding its
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
 * Makes one node hold exactly these `hosts.toml` files, and on delete removes what it wrote:
 * scripts/hosts-sync.sh, hosts-clear.sh and hosts-node.sh.
 */
export function hostsScript(node: string, files: readonly HostsFile[]): Script {
  return scriptSteps(
    { create: "hosts-sync", delete: "hosts-clear", nodeScript: "hosts-node" },
    hostsEnvironment(node, files),
  );
}
