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
