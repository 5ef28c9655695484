/**
 * Quoting for the text formats this package writes. Every value that reaches a YAML or TOML
 * document goes through one of these, even when validation already restricts it, so that a
 * future relaxed rule cannot turn into an injection.
 */

/** A YAML double-quoted scalar. JSON string syntax is a subset of YAML's. */
export function yamlString(value: string): string {
  return JSON.stringify(value);
}

/**
 * A TOML basic string. TOML shares JSON's escapes except that it has no `\/` (JSON.stringify never
 * emits it) and forbids raw control characters, which JSON.stringify escapes as `\uXXXX`; DEL is
 * escaped by hand because JSON leaves it raw.
 */
export function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, "\\u007F");
}

/** Indents every non-empty line of `text` by `spaces` spaces. */
export function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

/**
 * An IP address as the host of a URL or of `host:port`: an IPv6 address in brackets. With
 * `connect`, a wildcard address (`0.0.0.0`, `::`, or docker's empty one), which a server listens
 * on, becomes the loopback address a client on the same machine connects to.
 */
export function urlHost(ip: string, { connect = false } = {}): string {
  const host = !connect
    ? ip
    : ip === "" || ip === "0.0.0.0"
      ? "127.0.0.1"
      : ip === "::"
        ? "::1"
        : ip;
  return host.includes(":") ? `[${host}]` : host;
}

/** `docker.io` -> `docker-io`: a host made fit for resource and container names. */
export function hostSlug(host: string): string {
  return host.replace(/[^a-z0-9]+/g, "-");
}
