/**
 * Read-only lookups the program makes at run time (in previews too). They run docker and kind
 * with argument vectors, never through a shell, and they print nothing: the command provider
 * would log whatever a command prints, which must not include a kubeconfig.
 */
import { execCommand as exec, execCommandSync, lastLine } from "./exec";
import { LABEL_REPAIR } from "./render/containerSpecs";
import { KindDevError } from "./validate";

/**
 * Where a registry container stands: `present`; `missing` (its volume is there but the container
 * is not: removed by hand); `absent` (neither: never created, or everything removed); `unknown`
 * (no docker CLI).
 */
export type ContainerState = "present" | "missing" | "absent" | "unknown";

export interface ContainerLookup {
  readonly state: ContainerState;
  /** A present container's LABEL_REPAIR; empty when it has none. */
  readonly repair: string;
}

export async function lookupContainer(container: string, volume: string): Promise<ContainerLookup> {
  // Docker also takes the name as an ID prefix: only a container of that exact name counts.
  const inspect = await exec("docker", [
    "container",
    "inspect",
    "--format",
    `{{.Name}} {{index .Config.Labels "${LABEL_REPAIR}"}}`,
    container,
  ]);
  if (inspect.missing) {
    return { state: "unknown", repair: "" };
  }
  const [name = "", repair = ""] = inspect.stdout.trim().split(" ");
  if (inspect.code === 0 && name === `/${container}`) {
    return { state: "present", repair };
  }
  const vol = await exec("docker", ["volume", "inspect", "--format", "{{.Name}}", volume]);
  return { state: vol.code === 0 ? "missing" : "absent", repair: "" };
}

export async function containerState(container: string, volume: string): Promise<ContainerState> {
  return (await lookupContainer(container, volume)).state;
}

/** The kubeconfig kind keeps for a cluster, for use from the host. */
export async function readKubeconfig(clusterName: string): Promise<string> {
  const r = await exec("kind", ["get", "kubeconfig", "--name", clusterName]);
  if (r.missing) {
    throw new Error(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry",
    );
  }
  if (r.code !== 0) {
    throw new Error(
      `pulumi-kind-dev: could not read the kubeconfig of kind cluster ${JSON.stringify(clusterName)} ` +
        `(was it deleted outside Pulumi? then run 'pulumi up --replace' on the cluster resource): ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

/**
 * The buildx builder LocalImage builds with: the one named after the current docker context,
 * which builds with that daemon's own BuildKit, so the image lands in its image store and
 * `localhost:<port>` is the host's. Read when the program runs (a constructor's read, so
 * synchronous); throws when docker or its buildx plugin is missing.
 */
export function contextBuilder(): string {
  const context = execCommandSync("docker", ["context", "show"]);
  if (context.missing) {
    throw new KindDevError(
      "pulumi-kind-dev: LocalImage needs the docker CLI on PATH; install Docker and retry",
    );
  }
  const name = context.stdout.trim();
  if (context.code !== 0 || !/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(name)) {
    throw new KindDevError(
      `pulumi-kind-dev: LocalImage could not read the current docker context ('docker context show': ${lastLine(context)})`,
    );
  }
  if (execCommandSync("docker", ["buildx", "version"]).code !== 0) {
    throw new KindDevError(
      "pulumi-kind-dev: LocalImage builds with 'docker buildx', and 'docker buildx version' failed: install Docker's buildx plugin (Docker Desktop and Docker CE include it; https://github.com/docker/buildx#installing) and retry.",
    );
  }
  return name;
}
