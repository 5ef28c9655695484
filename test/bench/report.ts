/**
 * Turns benchmark samples into results.json, results.md (tables of medians) and chart.png
 * (an SVG rendered by rsvg-convert). `npx ts-node --transpile-only test/bench/report.ts DIR`
 * re-renders DIR/results.md and DIR/chart.png from DIR/results.json.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface Sample {
  total: number;
  transfer?: number;
  rollout?: number;
  bytes?: number;
  ref?: string;
}

export interface Results {
  date: string;
  machine: Record<string, string | number>;
  runs: { bench1: number; bench2: number; bench3: number };
  sizes: number[];
  bench2: { images: number; totalMiB: number; rate: string };
  delivery: ({
    size: number;
    mode: "cold" | "incremental";
    method: "kind" | "registry";
    run: number;
  } & Sample)[];
  split: { size: number; run: number; dockerSave: number }[];
  recreate: { mode: "cold" | "warm"; run: number; total: number; up: number; pods: number }[];
  overhead: {
    what: "bare" | "pulumi-up" | "pulumi-up-nochange" | "doctor";
    run: number;
    total: number;
  }[];
  linkCheck?: { rate: string; unlimitedMbit: number; limitedMbit: number };
  notes: string[];
  /** Per pulumi-up-from-nothing run: resource name -> [start, end] seconds after up started. */
  upTimings?: Record<string, [number, number]>[];
  totalSeconds: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) {
    return NaN;
  }
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const fx = (x: number) => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x` : "–");
const sizeLabel = (mib: number) => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

export interface Summary {
  delivery: {
    size: number;
    mode: string;
    kind: number;
    registry: number;
    ratio: number;
    n: number;
    kindTransfer: number;
    kindRollout: number;
    regTransfer: number;
    regRollout: number;
  }[];
  recreate?: {
    cold: number;
    warm: number;
    ratio: number;
    coldUp: number;
    warmUp: number;
    n: number;
  };
  overhead?: {
    pulumi: number;
    bare: number;
    ratio: number;
    noop: number;
    doctor?: number;
    n: number;
  };
  dockerSave?: number;
}

export function summarize(r: Results): Summary {
  const out: Summary = { delivery: [] };
  for (const size of r.sizes) {
    for (const mode of ["cold", "incremental"]) {
      const pick = (method: string) =>
        r.delivery.filter((d) => d.size === size && d.mode === mode && d.method === method);
      const k = pick("kind");
      const g = pick("registry");
      if (k.length === 0 && g.length === 0) {
        continue;
      }
      const kind = median(k.map((d) => d.total));
      const registry = median(g.map((d) => d.total));
      out.delivery.push({
        size,
        mode,
        kind,
        registry,
        ratio: kind / registry,
        n: Math.min(k.length, g.length),
        kindTransfer: median(k.map((d) => d.transfer ?? NaN)),
        kindRollout: median(k.map((d) => d.rollout ?? NaN)),
        regTransfer: median(g.map((d) => d.transfer ?? NaN)),
        regRollout: median(g.map((d) => d.rollout ?? NaN)),
      });
    }
  }
  const cold = r.recreate.filter((x) => x.mode === "cold");
  const warm = r.recreate.filter((x) => x.mode === "warm");
  if (cold.length > 0 && warm.length > 0) {
    const c = median(cold.map((x) => x.total));
    const w = median(warm.map((x) => x.total));
    out.recreate = {
      cold: c,
      warm: w,
      ratio: w / c,
      coldUp: median(cold.map((x) => x.up)),
      warmUp: median(warm.map((x) => x.up)),
      n: Math.min(cold.length, warm.length),
    };
  }
  const pick = (w: string) => r.overhead.filter((x) => x.what === w).map((x) => x.total);
  if (pick("bare").length > 0 && pick("pulumi-up").length > 0) {
    const p = median(pick("pulumi-up"));
    const b = median(pick("bare"));
    out.overhead = {
      pulumi: p,
      bare: b,
      ratio: p / b,
      noop: median(pick("pulumi-up-nochange")),
      ...(pick("doctor").length > 0 ? { doctor: median(pick("doctor")) } : {}),
      n: Math.min(pick("bare").length, pick("pulumi-up").length),
    };
  }
  if (r.split.length > 0) {
    out.dockerSave = median(r.split.map((s) => s.dockerSave));
  }
  return out;
}

/** Where `pulumi up` from nothing spends its time, from the engine's resource events (medians). */
export function upPhases(r: Results): string[] {
  const totals = r.overhead.filter((o) => o.what === "pulumi-up").map((o) => o.total);
  const rows: Record<string, number[]> = {};
  const add = (k: string, v: number) => (rows[k] ??= []).push(v);
  (r.upTimings ?? []).forEach((t, i) => {
    const find = (suffix: string) => Object.entries(t).find(([k]) => k.endsWith(suffix))?.[1];
    const netw = find("-network");
    const cluster = find("-cluster");
    const cm = find("-local-registry-hosting");
    const total = totals[i];
    if (!netw || !cluster || !cm || total === undefined) {
      return;
    }
    add("engine and program start, until the first resource", netw[0]);
    add(
      "network, registry (until /v2/ answers), cache (incl. its 1 s start check)",
      cluster[0] - netw[0],
    );
    add("kind create cluster (the dev-cluster command)", cluster[1] - cluster[0]);
    add("hosts.toml on the nodes, Kubernetes provider, ConfigMap", cm[1] - cluster[1]);
    add("engine finish, Automation API return, reading the kubeconfig output", total - cm[1]);
  });
  if (Object.keys(rows).length === 0) {
    return [];
  }
  return [
    "Where `pulumi up` from nothing spends its time (from the engine's resource events, medians):",
    "",
    "| phase | s |",
    "| --- | ---: |",
    ...Object.entries(rows).map(([k, v]) => `| ${k} | ${f1(median(v))} |`),
    "",
  ];
}

export function markdownTables(r: Results, s: Summary): string {
  const lines: string[] = [];
  if (s.delivery.length > 0) {
    lines.push(
      "### 1. Image delivery (image built → pod Running with the new image on both nodes)",
      "",
      "Ratios are ratios of the medians. Transfer = `kind load docker-image` or `docker push` (+ digest lookup); rollout = `kubectl set image` on the DaemonSet (maxUnavailable 100%) until both pods run the new image.",
      "",
      "| image | mode | kind load (s) | registry (s) | kind load / registry | runs | kind: load + rollout (s) | registry: push + rollout (s) |",
      "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    );
    for (const d of s.delivery) {
      lines.push(
        `| ${sizeLabel(d.size)} | ${d.mode} | ${f1(d.kind)} | ${f1(d.registry)} | ${fx(d.ratio)} | ${d.n} | ${f1(d.kindTransfer)} + ${f1(d.kindRollout)} | ${f1(d.regTransfer)} + ${f1(d.regRollout)} |`,
      );
    }
    lines.push("");
  }
  if (s.recreate) {
    const x = s.recreate;
    lines.push(
      `### 2. Cluster recreation (${r.bench2.images} images, ${r.bench2.totalMiB} MiB, upstream limited to ${r.bench2.rate})`,
      "",
      "| cache | pulumi up → all workload pods Running (s) | of which pulumi up (s) | runs |",
      "| --- | ---: | ---: | ---: |",
      `| empty (cold) | ${f1(x.cold)} | ${f1(x.coldUp)} | ${x.n} |`,
      `| warm | ${f1(x.warm)} | ${f1(x.warmUp)} | ${x.n} |`,
      `| **warm / cold** | **${x.ratio.toFixed(2)}** (${fx(1 / x.ratio)} faster) | | |`,
      "",
    );
  }
  if (s.overhead) {
    const o = s.overhead;
    lines.push(
      "### 3. Engine overhead (1 control plane + 1 worker)",
      "",
      "| what | median (s) | runs |",
      "| --- | ---: | ---: |",
      `| pulumi up from nothing (registry, cache, cluster, hosts.toml, ConfigMap) | ${f1(o.pulumi)} | ${o.n} |`,
      `| bare: docker run registry (until /v2/ answers) + kind create cluster, same kind config | ${f1(o.bare)} | ${o.n} |`,
      `| **pulumi / bare** | **${o.ratio.toFixed(2)}** | |`,
      `| pulumi up with no changes | ${f1(o.noop)} | ${o.n} |`,
      ...(o.doctor === undefined
        ? []
        : [
            `| \`kind-dev doctor\` on the healthy environment (every check, a real pull on both nodes) | ${f1(o.doctor)} | ${o.n} |`,
          ]),
      "",
      ...upPhases(r),
    );
  }
  return lines.join("\n");
}

export function targets(s: Summary): string[] {
  const out: string[] = [];
  const big = s.delivery.filter((d) => d.mode === "incremental").sort((a, b) => b.size - a.size)[0];
  if (big) {
    out.push(
      `- Incremental delivery at ${sizeLabel(big.size)}: registry ${fx(big.ratio)} faster than kind load (target ≥ 20x): ${verdict(big.ratio >= 20)}.`,
    );
  }
  if (s.recreate) {
    out.push(
      `- Warm recreation: ${s.recreate.ratio.toFixed(2)} of cold (target ≤ 0.20): ${verdict(s.recreate.ratio <= 0.2)}.`,
    );
  }
  if (s.overhead) {
    out.push(
      `- pulumi up from nothing: ${s.overhead.ratio.toFixed(2)}x bare kind create + registry (target ≤ 1.2x): ${verdict(s.overhead.ratio <= 1.2)}.`,
    );
  }
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/** Two panels: grouped bars for benchmark 1 (log scale) and benchmark 2. */
export function svgChart(r: Results, s: Summary): string {
  const W = 1200;
  const H = 560;
  const parts: string[] = [];
  const text = (x: number, y: number, t: string, o: string = "") =>
    parts.push(`<text x="${x}" y="${y}" ${o}>${esc(t)}</text>`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const colors = { kind: "#d9822b", registry: "#2b6cb0", cold: "#c53030", warm: "#2f855a" };
  // Panel 1: delivery, log10 seconds.
  const p1 = { x: 70, y: 60, w: 760, h: 400 };
  text(
    p1.x,
    30,
    "1. Image delivery: image built → pod Running on both nodes",
    'font-size="16" font-weight="bold"',
  );
  text(p1.x, 48, "median seconds, log scale", 'font-size="12"');
  const vals = s.delivery.flatMap((d) => [d.kind, d.registry]).filter(Number.isFinite);
  const maxV = Math.max(10, ...vals);
  const minV = 0.5;
  const lo = Math.log10(minV);
  const hi = Math.ceil(Math.log10(maxV * 1.3) * 2) / 2;
  const yOf = (v: number) =>
    p1.y + p1.h - ((Math.log10(Math.max(v, minV)) - lo) / (hi - lo)) * p1.h;
  for (const t of [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) {
    if (Math.log10(t) > hi) {
      break;
    }
    const y = yOf(t);
    parts.push(`<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    text(p1.x - 8, y + 4, `${t}s`, 'font-size="12" text-anchor="end"');
  }
  parts.push(`<line x1="${p1.x}" x2="${p1.x}" y1="${p1.y}" y2="${p1.y + p1.h}" stroke="#333"/>`);
  parts.push(
    `<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${p1.y + p1.h}" y2="${p1.y + p1.h}" stroke="#333"/>`,
  );
  const groups = s.delivery.length;
  const gw = p1.w / Math.max(1, groups);
  const bw = Math.min(38, gw / 3);
  s.delivery.forEach((d, i) => {
    const cx = p1.x + gw * i + gw / 2;
    const bars: ["kind" | "registry", number][] = [
      ["kind", d.kind],
      ["registry", d.registry],
    ];
    bars.forEach(([m, v], j) => {
      if (!Number.isFinite(v)) {
        return;
      }
      const x = cx - bw - 2 + j * (bw + 4);
      const y = yOf(v);
      parts.push(
        `<rect x="${x}" y="${y}" width="${bw}" height="${p1.y + p1.h - y}" fill="${colors[m]}"/>`,
      );
      text(x + bw / 2, y - 4, f1(v), 'font-size="11" text-anchor="middle"');
    });
    text(cx, p1.y + p1.h + 18, sizeLabel(d.size), 'font-size="13" text-anchor="middle"');
    text(cx, p1.y + p1.h + 34, d.mode, 'font-size="13" text-anchor="middle"');
    text(
      cx,
      p1.y + p1.h + 52,
      `${fx(d.ratio)}`,
      'font-size="13" text-anchor="middle" font-weight="bold"',
    );
  });
  parts.push(`<rect x="${p1.x + 10}" y="${p1.y}" width="14" height="14" fill="${colors.kind}"/>`);
  text(p1.x + 30, p1.y + 12, "kind load docker-image + rollout", 'font-size="13"');
  parts.push(
    `<rect x="${p1.x + 260}" y="${p1.y}" width="14" height="14" fill="${colors.registry}"/>`,
  );
  text(p1.x + 280, p1.y + 12, "docker push localhost registry + rollout (pull)", 'font-size="13"');
  text(p1.x, H - 10, "bold: kind load / registry", 'font-size="12" fill="#555"');
  // Panel 2: recreation.
  const p2 = { x: 920, y: 60, w: 240, h: 400 };
  text(p2.x - 40, 30, "2. Cluster recreation", 'font-size="16" font-weight="bold"');
  text(
    p2.x - 40,
    48,
    `up → ${r.bench2.images} pods Running, ${r.bench2.totalMiB} MiB via ${r.bench2.rate}`,
    'font-size="12"',
  );
  if (s.recreate) {
    const max2 = Math.max(s.recreate.cold, s.recreate.warm) * 1.15;
    const y2 = (v: number) => p2.y + p2.h - (v / max2) * p2.h;
    for (let t = 0; t <= max2; t += max2 > 300 ? 60 : 30) {
      const y = y2(t);
      parts.push(`<line x1="${p2.x}" x2="${p2.x + p2.w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      text(p2.x - 8, y + 4, `${t}s`, 'font-size="12" text-anchor="end"');
    }
    parts.push(`<line x1="${p2.x}" x2="${p2.x}" y1="${p2.y}" y2="${p2.y + p2.h}" stroke="#333"/>`);
    parts.push(
      `<line x1="${p2.x}" x2="${p2.x + p2.w}" y1="${p2.y + p2.h}" y2="${p2.y + p2.h}" stroke="#333"/>`,
    );
    const bars: ["cold" | "warm", number, number, string][] = [
      ["cold", s.recreate.cold, s.recreate.coldUp, "empty cache"],
      ["warm", s.recreate.warm, s.recreate.warmUp, "warm cache"],
    ];
    bars.forEach(([m, v, upPart, label], j) => {
      const x = p2.x + 30 + j * 110;
      const y = y2(v);
      parts.push(
        `<rect x="${x}" y="${y}" width="70" height="${p2.y + p2.h - y}" fill="${colors[m]}"/>`,
      );
      const yu = y2(upPart);
      parts.push(
        `<rect x="${x}" y="${yu}" width="70" height="${p2.y + p2.h - yu}" fill="black" fill-opacity="0.25"/>`,
      );
      text(x + 35, y - 4, `${f1(v)}s`, 'font-size="12" text-anchor="middle"');
      text(x + 35, p2.y + p2.h + 18, label, 'font-size="13" text-anchor="middle"');
    });
    text(
      p2.x + 120,
      p2.y + p2.h + 52,
      `warm/cold = ${s.recreate.ratio.toFixed(2)}`,
      'font-size="13" text-anchor="middle" font-weight="bold"',
    );
    text(p2.x - 40, H - 10, "shaded: pulumi up part", 'font-size="12" fill="#555"');
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}

export function writeReport(r: Results, dir: string): void {
  const s = summarize(r);
  writeFileSync(
    path.join(dir, "results.json"),
    JSON.stringify({ ...r, summary: s }, null, 2) + "\n",
  );
  const m = r.machine;
  const md = [
    "# Benchmark results",
    "",
    `Measured ${r.date.slice(0, 10)} by \`npm run bench\` (test/bench/) in ${Math.round(r.totalSeconds / 60)} min, all benchmarks side by side in one run.`,
    `Machine: ${m["cores"]} cores (${m["cpu"]}), ${m["memGiB"]} GiB RAM, kernel ${m["kernel"]}, Docker ${m["docker"]}, ${m["kind"]}, Pulumi ${m["pulumi"]}, node image \`${m["nodeImage"]}\` (Kubernetes v1.34.0), 1 control plane + 1 worker.`,
    `Medians of ${r.runs.bench1} run(s) (benchmark 1), ${r.runs.bench2} (benchmark 2), ${r.runs.bench3} (benchmark 3); every sample is in results.json.`,
    "",
    "## Targets",
    "",
    ...targets(s),
    "",
    "## Tables",
    "",
    markdownTables(r, s),
    s.dockerSave !== undefined
      ? `\`docker save\` alone of the ${sizeLabel(Math.max(...r.sizes))} incremental image (the first half of kind load): median ${f1(s.dockerSave)} s.\n`
      : "",
    r.linkCheck
      ? `Upstream link check (16 MiB blob over HTTP from the upstream): ${r.linkCheck.unlimitedMbit} Mbit/s without, ${r.linkCheck.limitedMbit} Mbit/s with \`tc ... tbf rate ${r.linkCheck.rate}\`.\n`
      : "",
    ...(r.notes.length > 0 ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
    "![chart](chart.png)",
    "",
    "## How to reproduce",
    "",
    "`npm ci && npm run bench` on a Linux machine with Docker (the test bed, test/bed/testbed.sh --node-image, is built first; it needs apt and the Go module proxy once). " +
      "Run counts and sizes come from the environment: `BENCH_RUNS` (default 3; `BENCH1_RUNS`, `BENCH2_RUNS`, `BENCH3_RUNS` per benchmark), `BENCH_ONLY=1,2,3`, " +
      "`BENCH_SIZES=100,500,1024` (MiB), `BENCH_RATE=100mbit`, `BENCH2_IMAGES=5`, `BENCH2_TOTAL_MIB=1000`, `BENCH_OUT=docs/bench`. " +
      "`npx ts-node --transpile-only test/bench/report.ts docs/bench` re-renders results.md and chart.png from results.json. " +
      "Everything the run creates is named `kdev-bench*` and removed at the end, also on failure.",
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "results.md"), md);
  console.log("\n" + markdownTables(r, s) + "\n" + targets(s).join("\n") + "\n");
  const svgFile = path.join(dir, "chart.svg.tmp");
  writeFileSync(svgFile, svgChart(r, s));
  const c = spawnSync("rsvg-convert", ["-o", path.join(dir, "chart.png"), svgFile], {
    encoding: "utf8",
  });
  if (c.status !== 0) {
    console.error(`rsvg-convert failed: ${c.stderr ?? c.error}`);
  }
  spawnSync("rm", ["-f", svgFile]);
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? "docs/bench");
  const r = JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as Results;
  writeReport(r, dir);
}
