/**
 * Validation of the component's arguments. Every check throws an `Error` that names the
 * argument, shows the bad value and says what is allowed, before any resource is created.
 * Anything that later reaches a shell, a TOML file or a YAML file passes through here.
 */
import { isIP } from "node:net";

/** An error the engine prints as its message alone, not with the program's stack trace. */
export class KindDevError extends Error {
  /** The mark of Pulumi's RunError (without importing the SDK, which the doctor must not load). */
  readonly __pulumiRunError = true;
}

export class KindDevArgumentError extends KindDevError {
  constructor(field: string, value: unknown, allowed: string) {
    super(`KindDevEnvironment: invalid ${field} ${show(value)}: ${allowed}`);
    this.name = "KindDevArgumentError";
  }
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A docker container or network name that other containers resolve through docker DNS, so it
 * must be a DNS label: lowercase letters, digits and '-', starting and ending alphanumeric.
 */
export function dnsLabel(field: string, value: unknown, maxLength = 63): string {
  if (typeof value !== "string" || value.length > maxLength || !DNS_LABEL.test(value)) {
    throw new KindDevArgumentError(
      field,
      value,
      `must be a DNS label of 1-${maxLength} characters: lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  return value;
}

/**
 * kind names node containers `<cluster>-control-plane`, `<cluster>-worker12`...; node names
 * become hostnames, which are DNS labels of at most 63 characters.
 */
export const MAX_CLUSTER_NAME = 63 - "-control-plane".length;

/** IDs are lowercase hex: Docker may read a name of 0-9 and a-f only as an ID prefix (lib.sh). */
const HEX_ONLY = /^[0-9a-f]+$/;

/** A container or network name (a DNS label) that Docker cannot mistake for an ID prefix. */
export function dockerName(field: string, value: unknown, object: "container" | "network"): string {
  const name = dnsLabel(field, value);
  if (HEX_ONLY.test(name)) {
    throw new KindDevArgumentError(
      field,
      value,
      `must contain a character other than 0-9 and a-f, such as '-' or a letter from g to z: Docker reads a name made only of hex digits as the prefix of a ${object} ID, so a command meant for this ${object} could act on another one`,
    );
  }
  return name;
}

/**
 * Networks Docker makes itself and refuses to create or remove: `bridge`, `host`, `none` and
 * `default` on Linux, `nat` on Windows, `ingress` in swarm mode.
 */
export const DOCKER_PREDEFINED_NETWORKS: readonly string[] = [
  "bridge",
  "default",
  "host",
  "ingress",
  "nat",
  "none",
];

export function networkName(value: unknown): string {
  const name = dockerName("networkName", value, "network");
  if (DOCKER_PREDEFINED_NETWORKS.includes(name)) {
    throw new KindDevArgumentError(
      "networkName",
      value,
      `is one of Docker's predefined networks (${DOCKER_PREDEFINED_NETWORKS.join(", ")}), which Docker does not let anyone create or remove and on which containers cannot reach the registry by name; choose a network of your own, such as "kind"`,
    );
  }
  return name;
}

export function clusterName(value: unknown): string {
  return dnsLabel("clusterName", value, MAX_CLUSTER_NAME);
}

function wholeNumber(field: string, value: unknown, min: number, max: number, note = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new KindDevArgumentError(
      field,
      value,
      `must be a whole number from ${min} to ${max}${note}`,
    );
  }
  return value;
}

export const port = (field: string, value: unknown) => wholeNumber(field, value, 1, 65535);

export const MAX_WORKERS = 100;

export const workers = (value: unknown) => wholeNumber("workers", value, 0, MAX_WORKERS);

/** Upper bound of `maxParallelImagePulls`: more parallel pulls than this only contend for the link. */
export const MAX_PARALLEL_IMAGE_PULLS = 50;

export const maxParallelImagePulls = (value: unknown) =>
  wholeNumber(
    "maxParallelImagePulls",
    value,
    1,
    MAX_PARALLEL_IMAGE_PULLS,
    " (1 pulls one image at a time)",
  );

export function ipAddress(field: string, value: unknown): string {
  if (typeof value !== "string" || isIP(value) === 0) {
    throw new KindDevArgumentError(
      field,
      value,
      "must be an IPv4 or IPv6 address such as 127.0.0.1 (0.0.0.0 publishes on every interface)",
    );
  }
  return value;
}

// A registry host as containerd and docker write it: a DNS name or IPv4 address, optional port.
const HOST =
  /^(?=.{1,253}(:|$))[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$/;

export function registryHost(field: string, value: unknown): string {
  if (typeof value !== "string" || !HOST.test(value)) {
    throw new KindDevArgumentError(
      field,
      value,
      "must be a registry host name such as docker.io or ghcr.io or registry.example.com:5000 (lowercase, no scheme, no path)",
    );
  }
  const portPart = Number(value.split(":")[1] ?? 1);
  if (portPart < 1 || portPart > 65535) {
    throw new KindDevArgumentError(field, value, "has a port outside 1-65535");
  }
  return value;
}

/**
 * An upstream registry URL: http or https, a host, an optional port and nothing else. Paths,
 * queries, fragments and embedded credentials are refused; credentials have their own secret
 * fields. Returns the normalized origin (no trailing slash).
 */
export function upstreamUrl(field: string, value: unknown): string {
  const allowed =
    "must be an http:// or https:// URL with a host and optional port only, such as https://registry-1.docker.io (no path, query, fragment or user:password@)";
  if (typeof value !== "string" || /[\s\\]/.test(value)) {
    throw new KindDevArgumentError(field, value, allowed);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KindDevArgumentError(field, value, allowed);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.pathname !== "/" ||
    !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(value)
  ) {
    throw new KindDevArgumentError(field, value, allowed);
  }
  registryHost(field, url.host);
  return `${url.protocol}//${url.host}`;
}

// The reference grammar of distribution/reference: [domain[:port]/]path[:tag][@digest].
const REF_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const REF_DOMAIN =
  "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?";
const IMAGE_REF = new RegExp(
  `^(?:${REF_DOMAIN}/)?${REF_COMPONENT}(?:/${REF_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

export function imageReference(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length > 255 || !IMAGE_REF.test(value)) {
    throw new KindDevArgumentError(
      field,
      value,
      "must be an image reference such as kindest/node:v1.34.0 or registry:2 ([registry/]name[:tag][@sha256:digest])",
    );
  }
  return value;
}

const GO_DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;

export function goDuration(field: string, value: unknown): string {
  if (typeof value !== "string" || !GO_DURATION.test(value)) {
    throw new KindDevArgumentError(field, value, "must be a Go duration such as 168h, 72h or 30m");
  }
  return value;
}

export function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new KindDevArgumentError(field, value, "must be true or false");
  }
  return value;
}

export function protocol(field: string, value: unknown): "TCP" | "UDP" | "SCTP" {
  if (value !== "TCP" && value !== "UDP" && value !== "SCTP") {
    throw new KindDevArgumentError(field, value, 'must be "TCP", "UDP" or "SCTP"');
  }
  return value;
}
