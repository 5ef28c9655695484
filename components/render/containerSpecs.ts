import { createHash } from "node:crypto";

/**
 * The registry and cache containers as plain data, turned into `docker run` by
 * scripts.registryContainerScript.
 */

/** Labels that mark a container as created by this package; adoption requires them. */
export const LABEL_MANAGED = "dev.pulumi-kind-dev.managed";
export const LABEL_ROLE = "dev.pulumi-kind-dev.role";
export const LABEL_UPSTREAM = "dev.pulumi-kind-dev.upstream";
/** Fingerprint of the container's configuration: equal means the container can be kept as is. */
export const LABEL_SPEC = "dev.pulumi-kind-dev.spec";
/**
 * `<project>/<stack>` of the stack whose run created the container. Not part of the fingerprint:
 * a second stack with the same settings shares the container; one with other settings is refused
 * (scripts/registry-ensure.sh) instead of replacing it at every run in turn with the first.
 */
export const LABEL_OWNER = "dev.pulumi-kind-dev.owner";
/** The settings behind the fingerprint, readable (describeSettings): says what differs. */
export const LABEL_SETTINGS = "dev.pulumi-kind-dev.settings";
/**
 * The REPAIR value (scripts.ts) the ensure script started the container with: the program's
 * lookup reads it back, so the run after a repair changes nothing.
 */
export const LABEL_REPAIR = "dev.pulumi-kind-dev.repair";

/** Port every registry container listens on inside the docker network. */
export const REGISTRY_CONTAINER_PORT = 5000;
/** Where registry:2 and registry:3 keep their data (`storage.filesystem.rootdirectory`). */
export const REGISTRY_DATA_PATH = "/var/lib/registry";

export type RegistryRole = "registry" | "cache";

export interface PublishedPort {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
}

export interface ContainerSpec {
  readonly role: RegistryRole;
  readonly name: string;
  readonly image: string;
  readonly network: string;
  /** Named volume mounted at REGISTRY_DATA_PATH. */
  readonly volume: string;
  /** Non-secret environment, sorted by key. Credentials are added by the caller as secrets. */
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly PublishedPort[];
  readonly labels: Readonly<Record<string, string>>;
  readonly restart: "always";
  /** A cache's credential helper: the host file mounted read-only at HELPER_PATH. */
  readonly helper?: string;
}

/** Where a cache's credential helper is mounted, and what REGISTRY_PROXY_EXEC_COMMAND runs. */
export const HELPER_PATH = "/kind-dev/credential-helper";

export interface RegistrySpecInput {
  readonly name: string;
  readonly image: string;
  readonly network: string;
  readonly volume: string;
  readonly hostIp: string;
  readonly hostPort: number;
}

export function registryContainerSpec(input: RegistrySpecInput): ContainerSpec {
  return containerSpec("registry", input, { REGISTRY_STORAGE_DELETE_ENABLED: "true" }, {});
}

export interface CacheSpecInput extends Omit<RegistrySpecInput, "hostPort"> {
  readonly upstreamHost: string;
  readonly remoteUrl: string;
  /** Go duration; distribution's default (168h) when absent. */
  readonly ttl?: string;
  /** Published on the host (on `hostIp`) only when set. */
  readonly hostPort?: number;
  /** Host file of the credential helper, and how long the cache reuses its answer. */
  readonly helper?: string;
  readonly helperLifetime?: string;
}

export function cacheContainerSpec(input: CacheSpecInput): ContainerSpec {
  const env = {
    REGISTRY_PROXY_REMOTEURL: input.remoteUrl,
    // Needed for the proxy's scheduler to expire blobs after the TTL.
    REGISTRY_STORAGE_DELETE_ENABLED: "true",
    ...(input.ttl === undefined ? {} : { REGISTRY_PROXY_TTL: input.ttl }),
    ...(input.helper === undefined
      ? {}
      : {
          REGISTRY_PROXY_EXEC_COMMAND: HELPER_PATH,
          REGISTRY_PROXY_EXEC_LIFETIME: input.helperLifetime ?? "",
        }),
  };
  const spec = containerSpec("cache", input, env, { [LABEL_UPSTREAM]: input.upstreamHost });
  return input.helper === undefined ? spec : { ...spec, helper: input.helper };
}

function containerSpec(
  role: RegistryRole,
  input: Omit<RegistrySpecInput, "hostPort"> & { readonly hostPort?: number },
  env: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): ContainerSpec {
  const { name, image, network, volume, hostIp, hostPort } = input;
  return {
    role,
    name,
    image,
    network,
    volume,
    env: Object.fromEntries(
      Object.keys(env)
        .sort()
        .map((k) => [k, env[k] ?? ""]),
    ),
    ports:
      hostPort === undefined ? [] : [{ hostIp, hostPort, containerPort: REGISTRY_CONTAINER_PORT }],
    labels: { [LABEL_MANAGED]: "true", [LABEL_ROLE]: role, ...labels },
    restart: "always",
  };
}

/** Stands for a credential's value in the fingerprint and the settings: its name counts, not its value. */
const SECRET_VALUE = "<secret>";

/**
 * A fingerprint of everything that defines the container. Credentials count by name only: no
 * label may carry anything derived from a password, which a hash would let anyone who can run
 * `docker inspect` brute-force. A changed credential value is found instead by comparing it with
 * the container's own environment (scripts/registry-ensure.sh), which Docker keeps anyway.
 * Without credentials the text hashed is the one earlier versions hashed, so their containers
 * are kept.
 */
export function specHash(spec: ContainerSpec, secretNames: readonly string[] = []): string {
  const canonical = JSON.stringify([
    spec.role,
    spec.name,
    spec.image,
    spec.network,
    spec.volume,
    envList({ ...spec.env, ...Object.fromEntries(secretNames.map((n) => [n, SECRET_VALUE])) }),
    spec.ports.map((p) => [p.hostIp, p.hostPort, p.containerPort]),
    Object.keys(spec.labels)
      .sort()
      .map((k) => [k, spec.labels[k]]),
    spec.restart,
    // Absent without a helper, so the fingerprints of earlier versions' containers stay.
    ...(spec.helper === undefined ? [] : [spec.helper]),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/**
 * The settings a container is made with, as `key=value` words (LABEL_SETTINGS): image, network,
 * volume, published port, upstream, each variable (`env.NAME`), each credential by name
 * (`secret.NAME=<secret>`). When two stacks want one container with different settings, the
 * script names the words that differ. Values are validated (config.ts) and hold no spaces.
 */
export function describeSettings(spec: ContainerSpec, secretNames: readonly string[] = []): string {
  const publish = spec.ports.map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}`).join(",");
  const words = [
    `image=${spec.image}`,
    `network=${spec.network}`,
    `volume=${spec.volume}`,
    `publish=${publish === "" ? "none" : publish}`,
    ...(spec.labels[LABEL_UPSTREAM] === undefined
      ? []
      : [`upstream=${spec.labels[LABEL_UPSTREAM]}`]),
    ...envList(spec.env).map((line) => `env.${line}`),
    ...(spec.helper === undefined ? [] : [`helper=${spec.helper}`]),
    ...[...secretNames].sort().map((n) => `secret.${n}=${SECRET_VALUE}`),
  ];
  return words.join(" ");
}

/** `KEY=value` lines in key order, as docker expects them. */
export function envList(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((key) => `${key}=${env[key] ?? ""}`);
}
