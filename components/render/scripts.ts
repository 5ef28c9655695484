/**
 * Shell scripts run by `@pulumi/command` through `/bin/sh -c`. Every script is a constant: the
 * values it works on (names, TOML, kind config) arrive as environment variables and are only ever
 * expanded inside double quotes, so no argument can change what a script does. Scripts report on
 * stderr; only the cluster script writes to stdout, and only the kubeconfig.
 */
import { CERTS_D } from "./containerd";
import { LABEL_MANAGED } from "./containers";

/** A script and the environment it reads. */
export interface ShellCommand {
  readonly create: string;
  readonly delete?: string;
  readonly environment: Readonly<Record<string, string>>;
}

const PREFIX = "pulumi-kind-dev:";

export const REQUIRE_DOCKER = `if ! command -v docker >/dev/null 2>&1; then
  echo "${PREFIX} the docker CLI is not on PATH; install Docker and retry" >&2
  exit 127
fi
if ! docker info >/dev/null 2>&1; then
  echo "${PREFIX} the Docker daemon does not answer ('docker info' failed); start Docker and retry" >&2
  exit 1
fi`;

export const REQUIRE_KIND = `if ! command -v kind >/dev/null 2>&1; then
  echo "${PREFIX} the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry" >&2
  exit 127
fi`;

function script(...parts: string[]): string {
  return ["set -eu", ...parts].join("\n") + "\n";
}

const ENSURE_NETWORK = script(
  REQUIRE_DOCKER,
  `if docker network inspect "$NETWORK" >/dev/null 2>&1; then
  echo "${PREFIX} using existing docker network $NETWORK" >&2
else
  docker network create "$NETWORK" >/dev/null
  echo "${PREFIX} created docker network $NETWORK" >&2
fi`,
);

const REMOVE_NETWORK = script(
  `if docker network rm "$NETWORK" >/dev/null 2>&1; then
  echo "${PREFIX} removed docker network $NETWORK" >&2
else
  echo "${PREFIX} kept docker network $NETWORK: it is still in use or already gone" >&2
fi`,
);

/** Creates the docker network unless it exists; removes it on delete only when asked to. */
export function networkCommand(network: string, removeOnDelete: boolean): ShellCommand {
  return {
    create: ENSURE_NETWORK,
    ...(removeOnDelete ? { delete: REMOVE_NETWORK } : {}),
    environment: { NETWORK: network },
  };
}

const ADOPT_CONTAINER = script(
  REQUIRE_DOCKER,
  `if ! image=$(docker container inspect --format '{{.Config.Image}}' "$CONTAINER" 2>/dev/null); then
  exit 0
fi
managed=$(docker container inspect --format "{{index .Config.Labels \\"$LABEL\\"}}" "$CONTAINER")
if [ "$managed" != "true" ]; then
  echo "${PREFIX} a container named $CONTAINER already exists (image $image) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f $CONTAINER) or choose another container name." >&2
  exit 1
fi
docker rm -f "$CONTAINER" >/dev/null
echo "${PREFIX} adopting $CONTAINER: replaced the retained container; its data stays on volume $VOLUME" >&2`,
);

/**
 * Makes room for a registry or cache container that a previous `pulumi destroy` retained: a
 * container carrying this package's label is removed (its data lives on the named volume, which
 * is kept) so that Pulumi can create it again; any other container of that name is an error.
 */
export function adoptContainerCommand(container: string, volume: string): ShellCommand {
  return {
    create: ADOPT_CONTAINER,
    environment: { CONTAINER: container, VOLUME: volume, LABEL: LABEL_MANAGED },
  };
}

const WAIT_FOR_REGISTRY = script(
  `probe() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$URL" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O /dev/null -T 2 "$URL" 2>/dev/null
  else
    echo "${PREFIX} neither curl nor wget is on PATH; one is needed to check that the registry answers" >&2
    exit 127
  fi
}
i=0
until probe; do
  i=$((i + 1))
  if [ "$i" -ge "$ATTEMPTS" ]; then
    echo "${PREFIX} the registry $CONTAINER did not answer GET $URL after $ATTEMPTS tries; see 'docker logs $CONTAINER'" >&2
    exit 1
  fi
  sleep 1
done
echo "${PREFIX} registry $CONTAINER answers at $URL" >&2`,
);

/** Polls the registry's `GET /v2/` from the host until it answers. */
export function waitForRegistryCommand(
  container: string,
  url: string,
  attempts = 60,
): ShellCommand {
  return {
    create: WAIT_FOR_REGISTRY,
    environment: { CONTAINER: container, URL: url, ATTEMPTS: String(attempts) },
  };
}

const CREATE_CLUSTER = script(
  REQUIRE_DOCKER,
  REQUIRE_KIND,
  `if kind get clusters 2>/dev/null | grep -Fqx -- "$CLUSTER"; then
  echo "${PREFIX} a kind cluster named $CLUSTER already exists and is not in this stack; delete it (kind delete cluster --name $CLUSTER) or choose another clusterName" >&2
  exit 1
fi
config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf '%s' "$KIND_CONFIG" > "$config"
kind create cluster --name "$CLUSTER" --config "$config" >&2
kind get kubeconfig --name "$CLUSTER"`,
);

const DELETE_CLUSTER = script(REQUIRE_KIND, `kind delete cluster --name "$CLUSTER" >&2`);

/**
 * Creates the kind cluster and prints its kubeconfig (the only thing on stdout); deletes it on
 * delete. kind uses the docker network named `kind` unless KIND_EXPERIMENTAL_DOCKER_NETWORK says
 * otherwise.
 */
export function clusterCommand(cluster: string, network: string, kindConfig: string): ShellCommand {
  return {
    create: CREATE_CLUSTER,
    delete: DELETE_CLUSTER,
    environment: {
      CLUSTER: cluster,
      KIND_CONFIG: kindConfig,
      ...(network === "kind" ? {} : { KIND_EXPERIMENTAL_DOCKER_NETWORK: network }),
    },
  };
}

// Runs inside the node; the host directory arrives as $1, never inside the script text.
const NODE_WRITE = `set -eu; d="${CERTS_D}/$1"; mkdir -p "$d"; cat > "$d/hosts.toml.tmp"; mv "$d/hosts.toml.tmp" "$d/hosts.toml"`;
const NODE_REMOVE = `rm -rf "${CERTS_D}/$1"`;

const WRITE_HOSTS_TOML = script(
  REQUIRE_DOCKER,
  `printf '%s' "$HOSTS_TOML" | docker exec -i "$NODE" sh -c '${NODE_WRITE}' sh "$HOST_DIR"
echo "${PREFIX} wrote ${CERTS_D}/$HOST_DIR/hosts.toml on $NODE" >&2`,
);

const REMOVE_HOSTS_TOML = script(
  `docker exec "$NODE" sh -c '${NODE_REMOVE}' sh "$HOST_DIR" >/dev/null 2>&1 || true`,
);

/**
 * Writes one `hosts.toml` into one node. containerd reads these files at pull time, so no restart
 * is needed, and writing the same file again changes nothing. On delete the file is removed if
 * the node still exists.
 */
export function hostsTomlCommand(node: string, hostDir: string, toml: string): ShellCommand {
  return {
    create: WRITE_HOSTS_TOML,
    delete: REMOVE_HOSTS_TOML,
    environment: { NODE: node, HOST_DIR: hostDir, HOSTS_TOML: toml },
  };
}
