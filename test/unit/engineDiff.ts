/**
 * How `pulumi up` chooses between updating and replacing a `command:local:Command`, written out
 * from the sources the component runs against, so that tests under mocks can show which input
 * changes replace a command:
 *
 * - The command provider (pulumi-command 0.9.2, on pulumi-go-provider's `infer`) diffs the old
 *   inputs against the new ones with `plugin.NewDetailedDiffFromObjectDiff`: one entry per
 *   changed leaf, added or removed key, its path joined with `.` for object keys and `[i]` for
 *   array elements (`environment.KIND_CONFIG`, `triggers[0]`). No input of `local.Command` is
 *   replace-on-change in its schema, and it implements Update, so on its own it only updates.
 * - The engine (`applyReplaceOnChanges` in pkg/resource/deploy/step_generator.go) makes an
 *   entry a replacement when one of the resource's `replaceOnChanges` paths contains it: equal
 *   element by element over the length of the `replaceOnChanges` path, `*` matching any.
 *
 * Values compare as JSON: a secret is the object the mocks record, so a changed secret value
 * shows as a change under it. test/integration/commandSteps.test.ts runs the cluster command's
 * cases on the real engine and provider.
 */

export type PathElement = string | number;
export type PlannedStep = "same" | "update" | "replace";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The provider's detailed diff: the path of every changed, added or removed leaf. */
export function changedPaths(
  olds: unknown,
  news: unknown,
  prefix: PathElement[] = [],
): PathElement[][] {
  if (isObject(olds) && isObject(news)) {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
    return keys.flatMap((k) => {
      if (olds[k] === undefined && news[k] === undefined) {
        return [];
      }
      if (olds[k] === undefined || news[k] === undefined) {
        return [[...prefix, k]];
      }
      return changedPaths(olds[k], news[k], [...prefix, k]);
    });
  }
  if (Array.isArray(olds) && Array.isArray(news)) {
    const n = Math.max(olds.length, news.length);
    const out: PathElement[][] = [];
    for (let i = 0; i < n; i++) {
      if (i >= olds.length || i >= news.length) {
        out.push([...prefix, i]);
      } else {
        out.push(...changedPaths(olds[i], news[i], [...prefix, i]));
      }
    }
    return out;
  }
  return JSON.stringify(olds) === JSON.stringify(news) ? [] : [prefix];
}

/** A property path as Pulumi writes it: `environment.KIND_CONFIG`, `triggers[0]`, `a["b.c"]`. */
export function formatPath(path: readonly PathElement[]): string {
  return path
    .map((e, i) =>
      typeof e === "number" || e === "*"
        ? `[${e}]`
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(e)
          ? `${i === 0 ? "" : "."}${e}`
          : `[${JSON.stringify(e)}]`,
    )
    .join("");
}

/** Parses a `replaceOnChanges` path: `environment.KIND_CONFIG`, `triggers[*]`, `a["b.c"]`. */
export function parsePath(text: string): PathElement[] {
  const out: PathElement[] = [];
  const re = /(?:^|\.)([A-Za-z_*][A-Za-z0-9_]*)|\[(\d+|\*|"(?:[^"\\]|\\.)*")\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    const [, key, index] = m;
    if (key !== undefined) {
      out.push(key);
    } else if (index === "*") {
      out.push("*");
    } else if (index !== undefined && index.startsWith('"')) {
      out.push(JSON.parse(index) as string);
    } else {
      out.push(Number(index));
    }
  }
  if (re.lastIndex !== text.length || out.length === 0) {
    throw new Error(`cannot parse the property path ${JSON.stringify(text)}`);
  }
  return out;
}

/** PropertyPath.Contains: does `outer` (a replaceOnChanges path) contain `inner`? */
export function contains(outer: readonly PathElement[], inner: readonly PathElement[]): boolean {
  return inner.length >= outer.length && outer.every((e, i) => e === "*" || e === inner[i]);
}

/** What the engine does to a command whose inputs go from `olds` to `news`. */
export function plannedStep(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  replaceOnChanges: readonly string[] = [],
): PlannedStep {
  const changes = changedPaths(olds, news);
  if (changes.length === 0) {
    return "same";
  }
  const replacing = replaceOnChanges.map(parsePath);
  return changes.some((c) => replacing.some((r) => contains(r, c))) ? "replace" : "update";
}
