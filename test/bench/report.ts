/**
 * Turns the samples into results.json, results.md (targets, tables of medians, where the time
 * goes, the environment) and the block of docs/benchmarks.md between its markers.
 * `npx ts-node --transpile-only test/bench/report.ts DIR` re-renders DIR from DIR/results.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Up } from "./context";
import { type Features } from "./features";

/** One measurement: `what` names it; the other fields depend on it. */
export interface Sample {
  what: string;
  round: number;
  total: number;
  [field: string]: string | number | undefined;
}

export interface Results {
  date: string;
  /** BENCH_SMOKE=1: a quick run to check the harness, not results. */
  smoke: boolean;
  only: string[];
  runs: number;
  sizes: number[];
  /** Benchmarks 2 and 4: the workload on the upstream; bytes: every blob of it. */
  workload: { images: number; mib: number; rate: string; bytes?: number };
  /** Every version a reader needs to repeat the run. */
  environment: Record<string, string | number>;
  /** Every timed `npm run up`, with its trace. */
  ups: ({ what: string; round: number } & Up)[];
  samples: Sample[];
  features: Features[];
  linkCheck?: { rate: string; unlimitedMbit: number; limitedMbit: number; blobBytes: number };
  notes: string[];
  totalSeconds: number;
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const [lo, hi] = [s[Math.ceil(s.length / 2) - 1], s[Math.floor(s.length / 2)]];
  return lo === undefined || hi === undefined ? NaN : (lo + hi) / 2;
}

const fixed =
  (digits: number, unit = "") =>
  (x: number) =>
    Number.isFinite(x) ? `${x.toFixed(digits)}${unit}` : "–";
const [f1, f2, rx] = [fixed(1), fixed(2), fixed(2, "x")];
const sizeLabel = (mib: number) => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);
const verdict = (ok: boolean, measured: boolean) =>
  !measured ? "not measured in this run" : ok ? "met" : "**missed**";

export const gb = (bytes: number) =>
  bytes >= 1e8
    ? fixed(2, " GB")(bytes / 1e9)
    : bytes >= 1e6
      ? fixed(1, " MB")(bytes / 1e6)
      : fixed(1, " kB")(bytes / 1e3);

/** The median of `field` over the samples named `what` (and matching `where`). */
function med(r: Results, what: string, field = "total", where: Partial<Sample> = {}): number {
  const xs = r.samples.filter(
    (s) => s.what === what && Object.entries(where).every(([k, v]) => s[k] === v),
  );
  return median(xs.map((s) => Number(s[field])));
}

const ups = (r: Results, what: string) => r.ups.filter((u) => u.what === what);
const upWall = (r: Results, what: string) => median(ups(r, what).map((u) => u.wall));

/** Benchmark 1's median `field` for one image size, mode and method. */
const delivery = (r: Results, size: number, mode: string, method: string, field = "total") =>
  med(r, "delivery", field, { size, mode, method });

/**
 * Where the `npm run up` runs named `what` spend their time, from their traces: five phases in
 * order that add up to the wall time (medians, so their sum may differ a little).
 */
export function phases(r: Results, what: string): [string, number][] {
  const us = ups(r, what);
  const m = (fn: (u: Up) => number) => median(us.map(fn));
  const res = (u: Up) => u.trace.cli - u.trace.toProgram - u.trace.programLoad - u.trace.finish;
  return [
    ["npm, stacks/dev/up.sh and `pulumi stack select`", m((u) => u.wall - u.trace.cli)],
    ["CLI start until node runs the program", m((u) => u.trace.toProgram)],
    [
      "program load: node, @pulumi/pulumi, the program, until the component registers",
      m((u) => u.trace.programLoad),
    ],
    ["the resources, first registered to last done (below)", m(res)],
    ["engine finish: outputs, state, plugins' shutdown", m((u) => u.trace.finish)],
  ];
}

/** Each resource's span (registered by the program until the engine is done), medians. */
function resourceRows(r: Results, what: string): string[] {
  const us = ups(r, what);
  const names = Object.keys(us[0]?.trace.resources ?? {});
  const rows = names.map((n) => {
    const spans = us.map((u) => u.trace.resources[n]).filter((x) => x !== undefined);
    return `| \`${n}\` | ${f2(median(spans.map((s) => s[0])))} | ${f2(median(spans.map((s) => s[1] - s[0])))} |`;
  });
  const configure = median(us.map((u) => u.trace.k8sConfigure));
  return [
    ...rows,
    `| of which the kubernetes provider's Configure (downloads /openapi/v2) | | ${f2(configure)} |`,
  ];
}

function phaseTable(r: Results, what: string, title: string): string[] {
  if (ups(r, what).length === 0) {
    return [];
  }
  return [
    `${title} (${ups(r, what).length} runs; median ${f1(upWall(r, what))} s):`,
    "",
    "| phase | s |",
    "| --- | ---: |",
    ...phases(r, what).map(([k, v]) => `| ${k} | ${f2(v)} |`),
    "",
    "| resource | starts at (s after the CLI) | takes (s) |",
    "| --- | ---: | ---: |",
    ...resourceRows(r, what),
    "",
  ];
}

/** Each target against its floor, measured in the same run, with where the time goes. */
export function targets(r: Results): string[] {
  const bare = med(r, "bare");
  const bareKind = med(r, "bare", "kind");
  const ctlptl = med(r, "ctlptl-from-nothing");
  const fromNothing = upWall(r, "from-nothing");
  const noChange = upWall(r, "no-change");
  const warm = med(r, "recreate-warm");
  const out: string[] = [];
  const has = (x: number) => Number.isFinite(x);
  if (has(noChange)) {
    const p = phases(r, "no-change");
    out.push(
      `- **No-change \`npm run up\`**: ${f1(noChange)} s; target < 2 s: ${verdict(noChange < 2, true)} (a no-change \`ctlptl apply\`: ${f1(med(r, "ctlptl-no-change"))} s). ` +
        `Where the time goes: ${p.map(([k, v]) => `${k.split(":")[0]} ${f2(v)} s`).join("; ")}.`,
    );
  }
  if (has(fromNothing)) {
    const kindSpan = median(
      ups(r, "from-nothing").map((u) => {
        const c = Object.entries(u.trace.resources).find(([n]) => n.endsWith("-cluster"))?.[1];
        return c ? c[1] - c[0] : NaN;
      }),
    );
    out.push(
      `- **\`npm run up\` from nothing**: ${f1(fromNothing)} s, ${rx(fromNothing / bare)} bare registry start + \`kind create cluster\` (${f1(bare)} s; target ≤ 1.2x: ${verdict(fromNothing / bare <= 1.2, has(bare))}) and ${rx(fromNothing / ctlptl)} ctlptl (${f1(ctlptl)} s; target ≤ 1.1x: ${verdict(fromNothing / ctlptl <= 1.1, has(ctlptl))}). ` +
        `Where the time goes: the cluster command ${f1(kindSpan)} s (bare \`kind create cluster\` ${f1(bareKind)} s), the rest in the phase table below.`,
    );
  }
  if (has(warm)) {
    out.push(
      `- **Warm recreation** (the workload from the warm cache): ${f1(warm)} s, ${rx(warm / bare)} bare (${f1(bare)} s); target ≤ 1.3x: ${verdict(warm / bare <= 1.3, has(bare))}. ` +
        `Where the time goes: \`npm run up\` ${f1(upWall(r, "warm-recreation"))} s, then ${f1(med(r, "recreate-warm", "pods"))} s until every pod ran (the upstream sent ${gb(med(r, "recreate-warm", "upstreamBytes"))}).`,
    );
  }
  const cold = med(r, "recreate-cold");
  const link = ((r.workload.bytes ?? NaN) * 8) / ((r.linkCheck?.limitedMbit ?? NaN) * 1e6);
  if (has(cold)) {
    const floor = link + bareKind;
    out.push(
      `- **Cold recreation** (${r.workload.mib} MiB of workload behind ${r.workload.rate}): ${f1(cold)} s, ${rx(cold / floor)} its floor of ${f1(floor)} s (the workload's ${gb(r.workload.bytes ?? NaN)} at the measured ${r.linkCheck?.limitedMbit ?? "–"} Mbit/s, ${f1(link)} s, plus bare \`kind create cluster\`); target ≤ 1.3x: ${verdict(cold / floor <= 1.3, has(floor))}. ` +
        `The upstream sent ${gb(med(r, "recreate-cold", "upstreamBytes"))}.`,
    );
  }
  const big = Math.max(...r.sizes);
  const d = (method: string, field: string) => delivery(r, big, "incremental", method, field);
  const incr = d("registry", "total");
  if (has(incr)) {
    // The floor: the push of the changed layer plus the rollout of an image already on the nodes
    // (kind load's rollout: its image is imported before the rollout starts).
    const floor = d("registry", "transfer") + d("kind", "rollout");
    out.push(
      `- **Incremental delivery at ${sizeLabel(big)}**: ${f1(incr)} s, ${rx(incr / floor)} its floor of ${f1(floor)} s (push of the changed layer ${f1(d("registry", "transfer"))} s + rollout of an image already on the nodes ${f1(d("kind", "rollout"))} s); target ≤ 1.2x: ${verdict(incr / floor <= 1.2, true)}. ` +
        `Where the time goes: push ${f1(d("registry", "transfer"))} s, rollout with the pull of the new layer ${f1(d("registry", "rollout"))} s; \`kind load\` takes ${f1(d("kind", "total"))} s.`,
    );
  }
  return out;
}

function hostsSummary(f: Features): string {
  const perNode = Object.values(f.hostsToml);
  const hosts = [...new Set(perNode.flat().map((e) => e.host))].sort();
  if (hosts.length === 0) {
    return "none";
  }
  const everywhere = hosts.filter((h) => perNode.every((n) => n.some((e) => e.host === h)));
  const where = everywhere.length === hosts.length ? "yes" : "partly";
  return `${where}, on all ${perNode.length} nodes: ${everywhere.map((h) => `\`${h}\``).join(", ")}`;
}

export function featureTable(features: Features[]): string[] {
  if (features.length === 0) {
    return [];
  }
  const col = (fn: (f: Features) => string) => features.map(fn).join(" | ");
  const kept = (f: Features) =>
    f.keptAcrossClusterDeletion === undefined
      ? "not checked"
      : `${f.keptAcrossClusterDeletion ? "yes" : "**no**"} (${f.deletedWith ?? ""})`;
  const caches = (f: Features) =>
    f.caches.map((c) => `\`${c.upstream}\` → \`${c.container}\` (${c.remoteUrl})`).join("; ") ||
    "none";
  const kep = (f: Features) =>
    Object.keys(f.kep1755)
      .map((k) => `\`${k}\``)
      .join(", ") || "no ConfigMap";
  return [
    "What each tool set up, read back after it ran (`docker inspect` of its registry, the hosts.toml files on every node, the ConfigMap; a marker image pushed before the cluster was deleted and looked up after it was made again):",
    "",
    `| | ${col((f) => f.tool)} |`,
    `| --- | ${col(() => "---")} |`,
    `| registry data | ${col((f) => f.registryStorage)} |`,
    `| registry content kept across cluster deletion | ${col(kept)} |`,
    `| hosts.toml on every node | ${col(hostsSummary)} |`,
    `| pull-through cache per upstream | ${col(caches)} |`,
    `| KEP-1755 fields (\`localRegistryHosting.v1\`) | ${col(kep)} |`,
    "",
  ];
}

/** The side-by-side table: the component, bare kind and ctlptl on the same paths. */
function sideBySide(r: Results): string[] {
  const w = r.workload;
  return [
    `| path (1 control plane + 1 worker) | pulumi-kind-dev (\`npm run up\`) | bare registry + \`kind create cluster\` | ctlptl |`,
    "| --- | ---: | ---: | ---: |",
    `| from nothing to a ready cluster with its registry | ${f1(upWall(r, "from-nothing"))} s | ${f1(med(r, "bare"))} s | ${f1(med(r, "ctlptl-from-nothing"))} s |`,
    `| nothing changed | ${f1(upWall(r, "no-change"))} s | | ${f1(med(r, "ctlptl-no-change"))} s |`,
    `| recreation → all ${w.images} workload pods Running (${w.mib} MiB, ${w.rate}) | ${f1(med(r, "recreate-cold"))} s cold, ${f1(med(r, "recreate-warm"))} s warm | | ${f1(med(r, "ctlptl-recreate"))} s |`,
    `| bytes the upstream sent per recreation | ${gb(med(r, "recreate-cold", "upstreamBytes"))} cold, ${gb(med(r, "recreate-warm", "upstreamBytes"))} warm | | ${gb(med(r, "ctlptl-recreate", "upstreamBytes"))} |`,
    `| \`kind-dev doctor\` on the fresh environment | ${f1(med(r, "doctor"))} s | | |`,
    "",
  ];
}

function deliveryTable(r: Results): string[] {
  const rows: string[] = [];
  for (const size of r.sizes) {
    for (const mode of ["cold", "incremental"]) {
      const d = (method: string, field: string) => delivery(r, size, mode, method, field);
      if (!Number.isFinite(d("registry", "total"))) {
        continue;
      }
      rows.push(
        `| ${sizeLabel(size)} | ${mode} | ${f1(d("kind", "total"))} (${f1(d("kind", "transfer"))} + ${f1(d("kind", "rollout"))}) | ${f1(d("registry", "total"))} (${f1(d("registry", "transfer"))} + ${f1(d("registry", "rollout"))}) |`,
      );
    }
  }
  return rows.length === 0
    ? []
    : [
        "Image delivery, built image → pod Running with it on both nodes, s (transfer + rollout): `kind load docker-image` against `docker push` to the registry.",
        "",
        "| image | mode | kind load | registry |",
        "| --- | --- | ---: | ---: |",
        ...rows,
        "",
      ];
}

export const BLOCK_START = "<!-- bench:start (written by test/bench/report.ts) -->";
export const BLOCK_END = "<!-- bench:end -->";

function body(r: Results): string[] {
  return [
    `Run ${r.date.slice(0, 10)}: one ${Math.round(r.totalSeconds / 60)}-minute \`${r.smoke ? "BENCH_SMOKE=1 " : ""}npm run bench\` (benchmarks ${r.only.join(", ")}, ${r.runs} round(s) each, medians). Environment: ${Object.entries(
      r.environment,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    "Targets, each against a floor measured in the same run:",
    "",
    ...targets(r),
    "",
    ...sideBySide(r),
    ...phaseTable(
      r,
      "no-change",
      "Where a no-change `npm run up` spends its time (from its engine trace)",
    ),
    ...phaseTable(r, "from-nothing", "Where `npm run up` from nothing spends its time"),
    ...phaseTable(r, "warm-recreation", "Where `npm run up` of a warm recreation spends its time"),
    ...deliveryTable(r),
    ...featureTable(r.features),
    ...(r.notes.length > 0 ? ["Notes:", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
  ];
}

/** The README's figures, from the same run: the paths users wait for, next to their floors. */
export function headline(r: Results): string[] {
  const w = r.workload;
  const big = Math.max(...r.sizes);
  const d = (method: string) => delivery(r, big, "incremental", method);
  return [
    `Measured in one run of \`npm run bench\` (${r.date.slice(0, 10)}, ${r.environment["machine"]}; [docs/benchmarks.md](docs/benchmarks.md)):` +
      ` \`npm run up\` makes the cluster, its registry and a Docker Hub cache in ${f1(upWall(r, "from-nothing"))} s` +
      ` (a bare registry and \`kind create cluster\`: ${f1(med(r, "bare"))} s; ctlptl: ${f1(med(r, "ctlptl-from-nothing"))} s)` +
      ` and returns in ${f1(upWall(r, "no-change"))} s when nothing changed (ctlptl: ${f1(med(r, "ctlptl-no-change"))} s).` +
      ` After \`pulumi destroy\`, ${w.images} workload pods (${sizeLabel(w.mib)} behind ${w.rate}) run again ${f1(med(r, "recreate-warm"))} s after \`npm run up\` starts` +
      ` (${f1(med(r, "recreate-cold"))} s with an empty cache, ${f1(med(r, "ctlptl-recreate"))} s with ctlptl), the upstream sending ${gb(med(r, "recreate-warm", "upstreamBytes"))}.` +
      ` A changed ${sizeLabel(big)} image reaches both nodes in ${f1(d("registry"))} s by a push (\`kind load\`: ${f1(d("kind"))} s).`,
  ];
}

/** Replaces the block between the markers of `file` with `lines`. */
function writeBlock(file: string, lines: string[]): void {
  const doc = readFileSync(file, "utf8");
  const a = doc.indexOf(BLOCK_START);
  const b = doc.indexOf(BLOCK_END);
  if (a < 0 || b < a) {
    throw new Error(`${file}: no ${BLOCK_START} ... ${BLOCK_END} block`);
  }
  writeFileSync(
    file,
    doc.slice(0, a) +
      [BLOCK_START, ...lines, BLOCK_END].join("\n") +
      doc.slice(b + BLOCK_END.length),
  );
}

export function writeReport(r: Results, dir: string): void {
  writeFileSync(path.join(dir, "results.json"), JSON.stringify(r, null, 2) + "\n");
  const smoke = r.smoke
    ? ["**A smoke run (`BENCH_SMOKE=1`): it checks the harness; its figures are not results.**", ""]
    : [];
  const md = ["# Benchmark results", "", ...smoke, ...body(r)].join("\n");
  writeFileSync(path.join(dir, "results.md"), md);
  console.log(`\n${md}\n`);
  // The figures of docs/benchmarks.md and the README come from a full run written to docs/bench.
  const repo = path.resolve(__dirname, "../..");
  if (!r.smoke && path.resolve(dir) === path.join(repo, "docs/bench")) {
    writeBlock(path.join(repo, "docs/benchmarks.md"), body(r));
    writeBlock(path.join(repo, "README.md"), headline(r));
  }
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? "docs/bench");
  writeReport(JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as Results, dir);
}
