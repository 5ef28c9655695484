/**
 * `kind-dev doctor`, in three steps: gather the facts (facts.ts: every docker, kind, kubectl
 * and node command), choose the targets from them (environment.ts), judge them (judge.ts, a pure
 * function). With `fix` it runs the repairs the verdicts carry, then gathers and judges again.
 * Needs no Pulumi: the registry and caches are found by their labels, the cluster with kind.
 */
import { type Exec, execCommand, type ExecResult, lastLine } from "../exec";
import { type CheckResult, type FixOutcome, NARROWING, type Verdict } from "./checks";
import { attributeCauses, judge } from "./judge";
import { gather, type Narrowing, type RegistryClientFactory } from "./facts";
import { RegistryApi } from "./registryApi";

export interface DoctorOptions extends Narrowing {
  /** Repair what is safe and local, then check again. */
  readonly fix?: boolean;
  /** How commands run; the default runs them with execFile. */
  readonly exec?: Exec;
  /** How the registry's HTTP API is reached; the default is RegistryApi (fetch). */
  readonly registryClient?: RegistryClientFactory;
}

export interface DoctorReport {
  /** Every check, after the repairs when `fix` was set. */
  readonly results: readonly CheckResult[];
  /** No check failed. */
  readonly ok: boolean;
  /** What `fix` ran. */
  readonly fixes: readonly FixOutcome[];
  /** The checks before the repairs, when `fix` ran any. */
  readonly before?: readonly CheckResult[];
  readonly seconds: number;
}

/** Runs every check (and, with `fix`, the repairs and every check again). */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const start = Date.now();
  const exec = options.exec ?? execCommand;
  const client = options.registryClient ?? ((base, timeoutMs) => new RegistryApi(base, timeoutMs));
  const requested: Narrowing = Object.fromEntries(
    NARROWING.flatMap((k) => (options[k] === undefined ? [] : [[k, options[k]]])),
  );
  const diagnose = async (settle: boolean): Promise<Verdict[]> =>
    judge(await gather(requested, exec, client, { settle }));
  let verdicts = await diagnose(false);
  const fixes: FixOutcome[] = [];
  let before: CheckResult[] | undefined;
  const fixable = verdicts.flatMap(({ id, status, fix }) =>
    status !== "pass" && fix !== undefined ? [{ id, fix }] : [],
  );
  if (options.fix === true && fixable.length > 0) {
    before = attributeCauses(verdicts);
    // One command may repair several checks (a node's hosts.toml files): it runs once.
    const ran = new Map<string, ExecResult>();
    for (const { id, fix } of fixable) {
      const { description, argv, ...options } = fix;
      const key = JSON.stringify([argv, options]);
      const r = ran.get(key) ?? (await exec(argv[0], argv.slice(1), options));
      ran.set(key, r);
      const ok = r.code === 0;
      fixes.push({ id, description, ok, ...(ok ? {} : { error: lastLine(r) }) });
    }
    verdicts = await diagnose(true);
  }
  const results = attributeCauses(verdicts);
  return {
    results,
    ok: results.every((r) => r.status !== "fail"),
    fixes,
    ...(before === undefined ? {} : { before }),
    seconds: (Date.now() - start) / 1000,
  };
}
