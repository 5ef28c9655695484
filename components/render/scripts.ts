/**
 * Shell scripts run by `@pulumi/command` through `/bin/sh -c`. Every script is a constant: the
 * values it works on (names, TOML, kind config) arrive as environment variables and are only ever
 * expanded inside double quotes, so no argument can change what a script does. The command
 * provider logs everything a script prints, so scripts print progress and errors, never a secret.
 */
import { CERTS_D } from "./containerd";
import {
  type ContainerSpec,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  type PublishedPort,
  REGISTRY_DATA_PATH,
  specHash,
} from "./containers";
import type { ContainerState } from "../lookup";
import { indent } from "./text";

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

const PROBE = `probe() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$PROBE_URL" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O /dev/null -T 2 "$PROBE_URL" 2>/dev/null
  else
    echo "${PREFIX} neither curl nor wget is on PATH; one is needed to check that the registry answers" >&2
    exit 127
  fi
}
i=0
until probe; do
  i=$((i + 1))
  if [ "$i" -ge "$ATTEMPTS" ]; then
    echo "${PREFIX} the registry $CONTAINER did not answer GET $PROBE_URL after $ATTEMPTS tries; see 'docker logs $CONTAINER'" >&2
    exit 1
  fi
  sleep 1
done
echo "${PREFIX} registry $CONTAINER answers at $PROBE_URL" >&2`;

// distribution (2.8 and v3) exits at start when a proxy's upstream does not answer, and restarts
// forever.
// The check sits on the cluster's critical path, so it waits one second: enough for the
// registry to try its upstream and exit when the name does not resolve or the port refuses.
const CHECK_CACHE_STARTED = `if [ "$started" = 1 ]; then
  sleep 1
  if [ "$(inspect '{{.State.Running}} {{.RestartCount}}')" != "true 0" ]; then
    echo "${PREFIX} warning: cache $CONTAINER is restarting: the registry exits at start while its upstream $REGISTRY_PROXY_REMOTEURL does not answer. Until it does, nodes pull from $UPSTREAM directly; see 'docker logs $CONTAINER'" >&2
  fi
fi`;

const ENSURE_CONTAINER = script(
  REQUIRE_DOCKER,
  `inspect() { docker container inspect --format "$1" "$CONTAINER" 2>/dev/null; }
# 1 when this run creates or starts the container (then it is checked below).
started=0
create=1
if inspect '{{.Id}}' >/dev/null; then
  if [ "$(inspect '{{index .Config.Labels "${LABEL_MANAGED}"}}')" != "true" ]; then
    echo "${PREFIX} a container named $CONTAINER already exists (image $(inspect '{{.Config.Image}}')) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f $CONTAINER) or choose another container name." >&2
    exit 1
  fi
  if [ "$(inspect '{{index .Config.Labels "${LABEL_SPEC}"}}')" = "$SPEC" ]; then
    create=0
    if [ "$(inspect '{{.State.Running}}')" = "true" ]; then
      echo "${PREFIX} using the existing $ROLE container $CONTAINER; data on volume $VOLUME" >&2
    elif docker start "$CONTAINER" >/dev/null 2>&1; then
      started=1
      echo "${PREFIX} started the existing $ROLE container $CONTAINER; data on volume $VOLUME" >&2
    else
      # Never ran (e.g. its first start failed): make it again.
      docker rm -f "$CONTAINER" >/dev/null
      create=1
    fi
  else
    found_image=$(inspect '{{.Config.Image}}')
    docker rm -f "$CONTAINER" >/dev/null
    if [ "$found_image" = "$IMAGE" ]; then
      echo "${PREFIX} replacing the $ROLE container $CONTAINER, whose configuration changed; data stays on volume $VOLUME" >&2
    else
      # Typically registry:2 from an earlier version of this package; both read the same volume.
      echo "${PREFIX} replacing the $ROLE container $CONTAINER: image $found_image -> $IMAGE; data stays on volume $VOLUME. To keep $found_image, set registryImage: $found_image" >&2
    fi
  fi
fi
if [ "$create" = 1 ]; then
  if owner=$(docker volume inspect --format '{{index .Labels "${LABEL_MANAGED}"}}' "$VOLUME" 2>/dev/null); then
    if [ "$owner" != "true" ]; then
      echo "${PREFIX} a volume named $VOLUME already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone. Remove it (docker volume rm $VOLUME) or choose another container name." >&2
      exit 1
    fi
  else
    docker volume create --label "${LABEL_MANAGED}=true" "$VOLUME" >/dev/null
  fi
  set -- --detach --name "$CONTAINER" --restart always --network "$NETWORK" \\
    --volume "$VOLUME:${REGISTRY_DATA_PATH}" --label "${LABEL_MANAGED}=true" \\
    --label "${LABEL_ROLE}=$ROLE" --label "${LABEL_SPEC}=$SPEC"
  if [ -n "$UPSTREAM" ]; then
    set -- "$@" --label "${LABEL_UPSTREAM}=$UPSTREAM"
  fi
  if [ -n "$PUBLISH" ]; then
    set -- "$@" --publish "$PUBLISH"
  fi
  # Values stay in the environment: 'docker run --env NAME' copies NAME from it.
  for name in $ENV_NAMES; do
    set -- "$@" --env "$name"
  done
  if ! docker run "$@" "$IMAGE" >/dev/null; then
    # Leave no half-made container behind that a later run would mistake for a good one.
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    echo "${PREFIX} could not start the $ROLE container $CONTAINER (see the docker error above)" >&2
    exit 1
  fi
  started=1
  echo "${PREFIX} started the $ROLE container $CONTAINER; data on volume $VOLUME" >&2
fi
if [ -n "$PROBE_URL" ]; then
${indent(PROBE, 2)}
else
${indent(CHECK_CACHE_STARTED, 2)}
fi`,
);

const REMOVE_CONTAINER = script(
  `docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
if docker volume rm "$VOLUME" >/dev/null 2>&1; then
  echo "${PREFIX} removed $CONTAINER and its volume $VOLUME" >&2
else
  echo "${PREFIX} removed $CONTAINER; kept volume $VOLUME: it is still in use or already gone" >&2
fi`,
);

/** Names of environment variables the container gets (values travel in the environment). */
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

export interface ContainerCommandInput {
  readonly spec: ContainerSpec;
  /** Fingerprint of the whole configuration, kept as a label to tell whether to keep a container. */
  readonly specHash: string;
  /** Registry URL polled from the host after start; caches are not probed. */
  readonly probeUrl?: string;
  readonly attempts?: number;
  /** Names of extra (secret) variables the caller adds to the environment. */
  readonly extraEnvNames?: readonly string[];
  readonly removeOnDelete: boolean;
}

/**
 * Makes one registry container exist as specified, on its named volume. A container of that name
 * that carries this package's label and the same configuration fingerprint is kept as it is —
 * this is how a container retained by `pulumi destroy` is adopted, without a restart (a cache
 * whose upstream is unreachable could not start again). One with another fingerprint is replaced
 * on the same volume, with a line naming both images when the image changed (the upgrade from
 * registry:2, whose storage registry:3 reads as it is); any other container of that name is an
 * error.
 */
export function containerCommand(input: ContainerCommandInput): ShellCommand {
  const { spec } = input;
  const envNames = [...Object.keys(spec.env), ...(input.extraEnvNames ?? [])].sort();
  for (const name of envNames) {
    if (!ENV_NAME.test(name)) {
      throw new Error(`invalid container environment variable name ${JSON.stringify(name)}`);
    }
  }
  const port = spec.ports[0];
  return {
    create: ENSURE_CONTAINER,
    ...(input.removeOnDelete ? { delete: REMOVE_CONTAINER } : {}),
    environment: {
      ...spec.env,
      CONTAINER: spec.name,
      IMAGE: spec.image,
      NETWORK: spec.network,
      VOLUME: spec.volume,
      ROLE: spec.role,
      SPEC: input.specHash,
      UPSTREAM: spec.labels[LABEL_UPSTREAM] ?? "",
      PUBLISH: port === undefined ? "" : publishArg(port),
      ENV_NAMES: envNames.join(" "),
      PROBE_URL: input.probeUrl ?? "",
      ATTEMPTS: String(input.attempts ?? 60),
    },
  };
}

export interface RegistryContainerInput {
  readonly spec: ContainerSpec;
  /** Registry URL polled from the host after start; caches are not probed. */
  readonly probeUrl?: string;
  /** Secret variables (cache credentials): their values go in the environment and the fingerprint. */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** What the program's lookup found; `missing` makes the script run again (see lookup.ts). */
  readonly state: ContainerState;
  readonly removeOnDelete: boolean;
}

/**
 * The whole command for one registry or cache container as the component declares it:
 * containerCommand with the fingerprint of the spec and its secrets, the secret values in the
 * environment, and RECOVER, which changes (and so re-runs the script in place) when a container
 * was removed by hand while its volume stayed.
 */
export function registryContainerCommand(input: RegistryContainerInput): ShellCommand {
  const rendered = containerCommand({
    spec: input.spec,
    specHash: specHash(input.spec, input.secretEnv),
    probeUrl: input.probeUrl,
    extraEnvNames: Object.keys(input.secretEnv),
    removeOnDelete: input.removeOnDelete,
  });
  return {
    ...rendered,
    environment: {
      ...rendered.environment,
      ...input.secretEnv,
      RECOVER: input.state === "missing" ? "recreate" : "ok",
    },
  };
}

/** `docker run --publish` value; IPv6 addresses go in brackets. */
export function publishArg(port: PublishedPort): string {
  const ip = port.hostIp.includes(":") ? `[${port.hostIp}]` : port.hostIp;
  return `${ip}:${port.hostPort}:${port.containerPort}`;
}

const CREATE_CLUSTER = script(
  REQUIRE_DOCKER,
  REQUIRE_KIND,
  `clusters=$(kind get clusters 2>/dev/null || true)
if printf '%s\n' "$clusters" | grep -Fqx -- "$CLUSTER"; then
  echo "${PREFIX} a kind cluster named $CLUSTER already exists and is not in this stack; delete it (kind delete cluster --name $CLUSTER) or choose another clusterName" >&2
  exit 1
fi
config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf '%s' "$KIND_CONFIG" > "$config"
kind create cluster --name "$CLUSTER" --config "$config" >&2`,
);

const DELETE_CLUSTER = script(REQUIRE_KIND, `kind delete cluster --name "$CLUSTER" >&2`);

/**
 * Creates the kind cluster; deletes it on delete. Nothing secret is printed: the command
 * provider logs all output, so the kubeconfig is read by the program itself (see kubeconfig.ts). kind uses the docker network named `kind` unless KIND_EXPERIMENTAL_DOCKER_NETWORK says
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
