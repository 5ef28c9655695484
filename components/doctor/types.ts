/** What `kind-dev doctor` reports, as plain data. */

export type CheckStatus = "pass" | "warn" | "fail";

export interface CheckResult {
  /**
   * Stable identifier: `area.check`, then `@subject` for per-container and per-node checks, e.g.
   * `registry.network`, `cache.running@kind-cache-docker-io`,
   * `node.hosts-toml@dev-worker/localhost:5001`.
   */
  readonly id: string;
  /** What was checked, in a few words. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, one line. */
  readonly detail: string;
  /** One line naming the exact command that repairs it; empty when the check passes. */
  readonly remedy: string;
  /**
   * Set when this check fails only because another one did (a pull fails because the node's
   * `hosts.toml` is missing): the id of that root check, whose remedy this one repeats.
   */
  readonly causedBy?: string;
}

/** A repair `--fix` may run: one command, with an optional environment. */
export interface Fix {
  /** What the repair does, for the report: `connected kind-registry to network kind`. */
  readonly description: string;
  readonly argv: readonly [string, ...string[]];
  /** Variables added to the doctor's environment for the command. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A check's result as the checks compute it, before causes are attributed. */
export interface Verdict extends CheckResult {
  /** Checks whose failure explains this one's. */
  readonly dependsOn?: readonly string[];
  /** Present when `--fix` can repair the fault safely and locally. */
  readonly fix?: Fix;
}

export interface FixOutcome {
  /** The check the repair was for. */
  readonly id: string;
  readonly description: string;
  readonly ok: boolean;
  /** The command's error when it failed. */
  readonly error?: string;
}
