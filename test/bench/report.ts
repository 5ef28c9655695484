/**
 * Turns benchmark samples into results.json, results.md (tables of medians) and chart.png
 * (an SVG rendered by rsvg-convert). `npx ts-node --transpile-only test/bench/report.ts DIR`
 * re-renders DIR/results.md and DIR/chart.png from DIR/results.json.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { type Features } from "./features";

export interface Sample {
  total: number;
  transfer?: number;
  rollout?: number;
  bytes?: number;
  ref?: string;
}

export interface Results {
  date: string;
  /** BENCH_SMOKE=1: a quick run, not the committed results. */
  smoke?: boolean;
  only?: string[];
  machine: Record<string, string | number>;
  runs: { bench1: number; bench2: number; bench3: number; bench4?: number };
  sizes: number[];
  /** workloadBytes: every blob of the workload's images (manifests' layers and configs). */
  bench2: { images: number; totalMiB: number; rate: string; workloadBytes?: number };
  delivery: ({
    size: number;
    mode: "cold" | "incremental";
    method: "kind" | "registry";
    run: number;
  } & Sample)[];
  split: { size: number; run: number; dockerSave: number }[];
  recreate: {
    mode: "cold" | "warm";
    run: number;
    total: number;
    up: number;
    pods: number;
    /** Bytes the upstream sent over its limited link during the run (its qdisc's counter). */
    upstreamBytes?: number;
  }[];
  overhead: {
    what: "bare" | "bare-registry" | "bare-kind" | "pulumi-up" | "pulumi-up-nochange" | "doctor";
    run: number;
    total: number;
  }[];
  /** Benchmark 4: ctlptl from nothing ("ready") and its recreation with the workload. */
  ctlptl: {
    what: "ready" | "recreate";
    run: number;
    total: number;
    create?: number;
    pods?: number;
    upstreamBytes?: number;
  }[];
  /** Benchmark 4: what each tool set up, read back after it ran. */
  features: Features[];
  /** blobBytes: the blob fetched through the limited link to measure it. */
  linkCheck?: { rate: string; unlimitedMbit: number; limitedMbit: number; blobBytes?: number };
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
/** A ratio to a floor or a reference, two decimals. */
const rx = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : "–");

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
    coldPods: number;
    warmPods: number;
    coldBytes: number;
    warmBytes: number;
    n: number;
  };
  overhead?: {
    pulumi: number;
    bare: number;
    bareRegistry: number;
    bareKind: number;
    ratio: number;
    noop: number;
    doctor?: number;
    n: number;
  };
  ctlptl?: {
    ready: number;
    recreate: number;
    create: number;
    pods: number;
    bytes: number;
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
      coldPods: median(cold.map((x) => x.pods)),
      warmPods: median(warm.map((x) => x.pods)),
      coldBytes: median(cold.map((x) => x.upstreamBytes ?? NaN)),
      warmBytes: median(warm.map((x) => x.upstreamBytes ?? NaN)),
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
      bareRegistry: median(pick("bare-registry")),
      bareKind: median(pick("bare-kind")),
      ratio: p / b,
      noop: median(pick("pulumi-up-nochange")),
      ...(pick("doctor").length > 0 ? { doctor: median(pick("doctor")) } : {}),
      n: Math.min(pick("bare").length, pick("pulumi-up").length),
    };
  }
  if (r.split.length > 0) {
    out.dockerSave = median(r.split.map((s) => s.dockerSave));
  }
  const ready = (r.ctlptl ?? []).filter((c) => c.what === "ready");
  const rec = (r.ctlptl ?? []).filter((c) => c.what === "recreate");
  if (ready.length > 0 || rec.length > 0) {
    out.ctlptl = {
      ready: median(ready.map((c) => c.total)),
      recreate: median(rec.map((c) => c.total)),
      create: median(rec.map((c) => c.create ?? NaN)),
      pods: median(rec.map((c) => c.pods ?? NaN)),
      bytes: median(rec.map((c) => c.upstreamBytes ?? NaN)),
      n: Math.min(ready.length, rec.length),
    };
  }
  return out;
}

/** Link limit of a cold recreation: the workload's bytes at the measured link rate (seconds). */
export function linkSeconds(r: Results): number {
  const bytes = r.bench2.workloadBytes;
  const mbit = r.linkCheck?.limitedMbit;
  return bytes === undefined || mbit === undefined ? NaN : (bytes * 8) / (mbit * 1e6);
}

/** Where `pulumi up` from nothing spends its time, from the engine's resource events (medians). */
export function upPhaseMedians(r: Results): [string, number][] {
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
      "from the network until the cluster command starts (registry, caches: before it or beside it)",
      cluster[0] - netw[0],
    );
    add("kind create cluster (the dev-cluster command)", cluster[1] - cluster[0]);
    add("hosts.toml on the nodes, Kubernetes provider, ConfigMap", cm[1] - cluster[1]);
    add("engine finish, Automation API return, reading the kubeconfig output", total - cm[1]);
  });
  return Object.entries(rows).map(([k, v]) => [k, median(v)]);
}

export function upPhases(r: Results): string[] {
  const rows = upPhaseMedians(r);
  if (rows.length === 0) {
    return [];
  }
  return [
    "Where `pulumi up` from nothing spends its time (from the engine's resource events, medians):",
    "",
    "| phase | s |",
    "| --- | ---: |",
    ...rows.map(([k, v]) => `| ${k} | ${f1(v)} |`),
    "",
  ];
}

/** Bytes in GB (two decimals), or MB / kB when smaller. */
export function gb(bytes: number): string {
  if (!Number.isFinite(bytes)) {
    return "–";
  }
  if (bytes >= 1e8) {
    return `${(bytes / 1e9).toFixed(2)} GB`;
  }
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function hostsSummary(f: Features): string {
  const perNode = Object.values(f.hostsToml);
  if (perNode.length === 0) {
    return "–";
  }
  const hosts = [...new Set(perNode.flat().map((e) => e.host))].sort();
  const everywhere = hosts.filter((h) => perNode.every((n) => n.some((e) => e.host === h)));
  const missing = hosts.filter((h) => !everywhere.includes(h));
  if (hosts.length === 0) {
    return "none";
  }
  return (
    `${everywhere.length === hosts.length ? "yes" : "partly"}, on all ${perNode.length} nodes: ` +
    everywhere.map((h) => `\`${h}\``).join(", ") +
    (missing.length > 0 ? `; on some nodes only: ${missing.map((h) => `\`${h}\``).join(", ")}` : "")
  );
}

export function featureTable(features: Features[]): string[] {
  if (features.length === 0) {
    return [];
  }
  const col = (fn: (f: Features) => string) => features.map(fn).join(" | ");
  return [
    "What each tool set up, read back after it ran (`docker inspect` of its registry, the hosts.toml files on every node, the ConfigMap; a marker image pushed before the cluster was deleted and looked up after it was made again):",
    "",
    `| | ${col((f) => f.tool)} |`,
    `| --- | ${col(() => "---")} |`,
    `| registry data | ${col((f) => f.registryStorage)} |`,
    `| registry content kept across cluster deletion | ${col((f) =>
      f.keptAcrossClusterDeletion === undefined
        ? "not checked"
        : `${f.keptAcrossClusterDeletion ? "yes" : "**no**"} (${f.deletedWith ?? ""})`,
    )} |`,
    `| hosts.toml on every node | ${col(hostsSummary)} |`,
    `| pull-through cache per upstream | ${col((f) =>
      f.caches.length === 0
        ? "none"
        : f.caches.map((c) => `\`${c.upstream}\` → \`${c.container}\` (${c.remoteUrl})`).join("; "),
    )} |`,
    `| KEP-1755 fields (\`localRegistryHosting.v1\`) | ${col((f) =>
      Object.keys(f.kep1755).length === 0
        ? "no ConfigMap"
        : Object.keys(f.kep1755)
            .map((k) => `\`${k}\``)
            .join(", "),
    )} |`,
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
      "| cache | pulumi up → all workload pods Running (s) | of which pulumi up (s) | pods (s) | upstream sent | runs |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      `| empty (cold) | ${f1(x.cold)} | ${f1(x.coldUp)} | ${f1(x.coldPods)} | ${gb(x.coldBytes)} | ${x.n} |`,
      `| warm | ${f1(x.warm)} | ${f1(x.warmUp)} | ${f1(x.warmPods)} | ${gb(x.warmBytes)} | ${x.n} |`,
      `| **warm / cold** | **${x.ratio.toFixed(2)}** (${fx(1 / x.ratio)} faster) | | | | |`,
      "",
      `The workload's blobs: ${gb(r.bench2.workloadBytes ?? NaN)}; at the measured link rate (${r.linkCheck?.limitedMbit ?? "–"} Mbit/s) that is ${f1(linkSeconds(r))} s. "Upstream sent" is the byte counter of the upstream's egress qdisc over the run (all it sent, headers included).`,
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
  if (s.ctlptl) {
    const c = s.ctlptl;
    const o = s.overhead;
    const x = s.recreate;
    lines.push(
      `### 4. ctlptl side by side (${r.machine["ctlptl"] ?? "ctlptl"}; same node image, 1 control plane + 1 worker, same upstream and link)`,
      "",
      "ctlptl: `ctlptl apply -f` of a Registry and a kind Cluster; recreation = `ctlptl delete cluster` (the registry stays), `ctlptl apply -f`, then the same workload as benchmark 2 (ctlptl has no pull-through cache: the nodes pull from the upstream). The component's figures are benchmark 3's and 2's of the same run.",
      "",
      "| | pulumi-kind-dev (s) | ctlptl (s) | runs (ctlptl) |",
      "| --- | ---: | ---: | ---: |",
      `| from nothing to a ready cluster with its registry | ${f1(o?.pulumi ?? NaN)} | ${f1(c.ready)} | ${c.n} |`,
      `| recreation: tool returns | ${f1(x?.coldUp ?? NaN)} cold / ${f1(x?.warmUp ?? NaN)} warm | ${f1(c.create)} | ${c.n} |`,
      `| recreation → all workload pods Running | ${f1(x?.cold ?? NaN)} cold / ${f1(x?.warm ?? NaN)} warm | ${f1(c.recreate)} | ${c.n} |`,
      `| of which pods (after the tool returned) | ${f1(x?.coldPods ?? NaN)} / ${f1(x?.warmPods ?? NaN)} | ${f1(c.pods)} | ${c.n} |`,
      `| upstream sent per recreation | ${gb(x?.coldBytes ?? NaN)} / ${gb(x?.warmBytes ?? NaN)} | ${gb(c.bytes)} | ${c.n} |`,
      `| reference: bare \`docker run\` registry + \`kind create cluster\` | ${f1(o?.bare ?? NaN)} | | |`,
      "",
      "How ctlptl's nodes reach the upstream: the cluster joins the upstream's docker network (`KIND_EXPERIMENTAL_DOCKER_NETWORK`, read by kind and ctlptl) and the harness writes `certs.d/docker.io/hosts.toml` naming the stand-in on every node right after `ctlptl apply` returns (counted in the recreation; with the real Docker Hub no file is needed). ctlptl's kind config keeps kind's kubelet defaults (serial image pulls); the component sets parallel pulls.",
      "",
    );
  }
  const features = r.features ?? [];
  if (features.length > 0) {
    lines.push("### Features, as each tool left them", "", ...featureTable(features));
  }
  return lines.join("\n");
}

/**
 * The issue's targets, each from the measured figures: whether it is met and where the time goes.
 */
export function targets(r: Results, s: Summary): string[] {
  const out: string[] = [];
  const o = s.overhead;
  const x = s.recreate;
  if (x) {
    const linkS = linkSeconds(r);
    const bytes = r.bench2.workloadBytes ?? NaN;
    const floor = linkS + (o?.bareKind ?? NaN);
    const ratio = x.cold / floor;
    out.push(
      `- **Cold recreation** (${r.bench2.totalMiB} MiB of workload images behind ${r.bench2.rate}): ${f1(x.cold)} s, ${rx(ratio)} its floor of ${f1(floor)} s ` +
        `(the workload's ${gb(bytes)} at the measured ${r.linkCheck?.limitedMbit ?? "–"} Mbit/s = ${f1(linkS)} s, plus bare \`kind create cluster\` ${f1(o?.bareKind ?? NaN)} s); ` +
        `target ≤ 1.3x: ${Number.isFinite(ratio) ? verdict(ratio <= 1.3) : "not measured (needs benchmarks 2 and 3)"}. ` +
        `Where the time goes: \`pulumi up\` ${f1(x.coldUp)} s, then ${f1(x.coldPods)} s until every pod ran (the link alone needs ${f1(linkS)} s); ` +
        `the upstream sent ${gb(x.coldBytes)} for ${gb(bytes)} of blobs (${rx(x.coldBytes / bytes)}).`,
    );
  }
  if (x) {
    const ratio = x.warm / (o?.bare ?? NaN);
    out.push(
      `- **Warm recreation**: ${f1(x.warm)} s, ${rx(ratio)} bare \`kind create cluster\` plus registry start (${f1(o?.bare ?? NaN)} s); target ≤ 1.3x: ${Number.isFinite(ratio) ? verdict(ratio <= 1.3) : "not measured (needs benchmark 3)"}. ` +
        `Where the time goes: \`pulumi up\` ${f1(x.warmUp)} s (bare ${f1(o?.bare ?? NaN)} s), then ${f1(x.warmPods)} s until every pod ran from the cache (the upstream sent ${gb(x.warmBytes)}).`,
    );
  }
  if (o) {
    const phases = upPhaseMedians(r);
    const engine = phases.filter(([k]) => k.startsWith("engine")).reduce((a, [, v]) => a + v, 0);
    const kindPhase = phases.find(([k]) => k.startsWith("kind create"))?.[1] ?? NaN;
    out.push(
      `- **\`pulumi up\` from nothing**: ${f1(o.pulumi)} s, ${rx(o.ratio)} bare \`kind create cluster\` plus registry start (${f1(o.bare)} s: registry ${f1(o.bareRegistry)} s, kind ${f1(o.bareKind)} s); target ≤ 1.2x: ${verdict(o.ratio <= 1.2)}. ` +
        `Where the time goes: the cluster command ${f1(kindPhase)} s (bare kind ${f1(o.bareKind)} s), the engine's start and finish ${f1(engine)} s, the rest in the phase table under benchmark 3.`,
    );
    out.push(
      `- **No-change \`pulumi up\`**: ${f1(o.noop)} s; target < 3 s: ${verdict(o.noop < 3)}. ` +
        (o.doctor === undefined
          ? "The doctor was not timed."
          : `\`kind-dev doctor\` on the healthy two-node environment: ${f1(o.doctor)} s (no target).`),
    );
  }
  const big = s.delivery.filter((d) => d.mode === "incremental").sort((a, b) => b.size - a.size)[0];
  if (big) {
    // The floor: the push of the changed layer plus the rollout of an image already on the node
    // (kind load's rollout: its image is imported before the rollout starts).
    const floor = big.regTransfer + big.kindRollout;
    const ratio = big.registry / floor;
    out.push(
      `- **Incremental delivery at ${sizeLabel(big.size)}**: ${f1(big.registry)} s, ${rx(ratio)} its floor of ${f1(floor)} s (push of the changed layer ${f1(big.regTransfer)} s + rollout of an image already on the node ${f1(big.kindRollout)} s); target ≤ 1.2x: ${verdict(ratio <= 1.2)}. ` +
        `Where the time goes: push ${f1(big.regTransfer)} s, rollout with the pull of the new layer ${f1(big.regRollout)} s. Against \`kind load\` (${f1(big.kind)} s): ${fx(big.ratio)} faster.`,
    );
  }
  if (s.ctlptl) {
    const c = s.ctlptl;
    out.push(
      `- **ctlptl side by side** (no target): from nothing ${f1(c.ready)} s vs \`pulumi up\` ${f1(o?.pulumi ?? NaN)} s; recreation to all pods Running ${f1(c.recreate)} s (every one pulls from the upstream: ${gb(c.bytes)}) vs ${f1(x?.cold ?? NaN)} s cold / ${f1(x?.warm ?? NaN)} s warm.`,
    );
  }
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/**
 * Three panels: grouped bars for benchmark 1 (log scale), recreation (benchmark 2 and ctlptl's),
 * and from nothing to a ready cluster with its registry (bare, pulumi up, ctlptl).
 */
export function svgChart(r: Results, s: Summary): string {
  const W = 1500;
  const H = 560;
  const parts: string[] = [];
  const text = (x: number, y: number, t: string, o: string = "") =>
    parts.push(`<text x="${x}" y="${y}" ${o}>${esc(t)}</text>`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const colors = {
    kind: "#d9822b",
    registry: "#2b6cb0",
    cold: "#c53030",
    warm: "#2f855a",
    ctlptl: "#6b46c1",
    bare: "#718096",
    pulumi: "#2b6cb0",
  };
  // Panel 1: delivery, log10 seconds.
  const p1 = { x: 70, y: 60, w: 690, h: 400 };
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
  // Panels 2 and 3: plain bars on a linear scale, each with a shaded lower part.
  const barPanel = (
    p: { x: number; y: number; w: number; h: number },
    bars: { color: string; value: number; lower?: number; label: string; label2?: string }[],
  ) => {
    const shown = bars.filter((b) => Number.isFinite(b.value));
    if (shown.length === 0) {
      return;
    }
    const max = Math.max(...shown.map((b) => b.value)) * 1.15;
    const yOf2 = (v: number) => p.y + p.h - (v / max) * p.h;
    const step = max > 600 ? 120 : max > 300 ? 60 : max > 120 ? 30 : 10;
    for (let t = 0; t <= max; t += step) {
      const y = yOf2(t);
      parts.push(`<line x1="${p.x}" x2="${p.x + p.w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      text(p.x - 8, y + 4, `${t}s`, 'font-size="12" text-anchor="end"');
    }
    parts.push(`<line x1="${p.x}" x2="${p.x}" y1="${p.y}" y2="${p.y + p.h}" stroke="#333"/>`);
    parts.push(
      `<line x1="${p.x}" x2="${p.x + p.w}" y1="${p.y + p.h}" y2="${p.y + p.h}" stroke="#333"/>`,
    );
    const slot = p.w / shown.length;
    const bw = Math.min(70, slot * 0.7);
    shown.forEach((b, j) => {
      const x = p.x + slot * j + (slot - bw) / 2;
      const y = yOf2(b.value);
      parts.push(
        `<rect x="${x}" y="${y}" width="${bw}" height="${p.y + p.h - y}" fill="${b.color}"/>`,
      );
      if (b.lower !== undefined && Number.isFinite(b.lower)) {
        const yu = yOf2(b.lower);
        parts.push(
          `<rect x="${x}" y="${yu}" width="${bw}" height="${p.y + p.h - yu}" fill="black" fill-opacity="0.25"/>`,
        );
      }
      text(x + bw / 2, y - 4, `${f1(b.value)}s`, 'font-size="12" text-anchor="middle"');
      text(x + bw / 2, p.y + p.h + 18, b.label, 'font-size="12" text-anchor="middle"');
      if (b.label2) {
        text(x + bw / 2, p.y + p.h + 33, b.label2, 'font-size="12" text-anchor="middle"');
      }
    });
  };
  const p2 = { x: 850, y: 60, w: 330, h: 400 };
  text(p2.x - 40, 30, "2./4. Cluster recreation", 'font-size="16" font-weight="bold"');
  text(
    p2.x - 40,
    48,
    `→ ${r.bench2.images} pods Running, ${r.bench2.totalMiB} MiB via ${r.bench2.rate}`,
    'font-size="12"',
  );
  barPanel(p2, [
    {
      color: colors.cold,
      value: s.recreate?.cold ?? NaN,
      lower: s.recreate?.coldUp,
      label: "empty cache",
    },
    {
      color: colors.warm,
      value: s.recreate?.warm ?? NaN,
      lower: s.recreate?.warmUp,
      label: "warm cache",
    },
    {
      color: colors.ctlptl,
      value: s.ctlptl?.recreate ?? NaN,
      lower: s.ctlptl?.create,
      label: "ctlptl",
    },
  ]);
  if (s.recreate) {
    text(
      p2.x + p2.w / 2,
      p2.y + p2.h + 52,
      `warm/cold = ${s.recreate.ratio.toFixed(2)}`,
      'font-size="13" text-anchor="middle" font-weight="bold"',
    );
  }
  text(p2.x - 40, H - 10, "shaded: until the tool returned", 'font-size="12" fill="#555"');
  const p3 = { x: 1260, y: 60, w: 210, h: 400 };
  text(p3.x - 40, 30, "3./4. From nothing", 'font-size="16" font-weight="bold"');
  text(p3.x - 40, 48, "to a cluster with its registry", 'font-size="12"');
  barPanel(p3, [
    { color: colors.bare, value: s.overhead?.bare ?? NaN, label: "bare", label2: "kind+registry" },
    { color: colors.pulumi, value: s.overhead?.pulumi ?? NaN, label: "pulumi up" },
    { color: colors.ctlptl, value: s.ctlptl?.ready ?? NaN, label: "ctlptl" },
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}

export const README_START = "<!-- bench:start (written by test/bench/report.ts) -->";
export const README_END = "<!-- bench:end -->";

/**
 * The benchmark figures of docs/benchmarks.md (the block between the markers), from the same
 * results as docs/bench/results.md. Its links are relative to docs/.
 */
export function readmeBlock(r: Results, s: Summary): string {
  const m = r.machine;
  const c = s.ctlptl;
  const o = s.overhead;
  const x = s.recreate;
  return [
    README_START,
    `Last run: ${r.date.slice(0, 10)}, one ${Math.round(r.totalSeconds / 60)}-minute \`npm run bench\` (benchmarks ${(r.only ?? []).join(", ")}), ${m["cores"]} cores, Docker ${m["docker"]}, ${m["kind"]}, Pulumi ${m["pulumi"]}${m["ctlptl"] ? `, ctlptl ${m["ctlptl"]}` : ""}, node image \`${m["nodeImage"]}\`, 1 control plane + 1 worker; medians of ${r.runs.bench1}/${r.runs.bench2}/${r.runs.bench3}/${r.runs.bench4 ?? 0} runs (benchmarks 1/2/3/4). Every table, sample and note: [bench/results.md](bench/results.md) and \`docs/bench/results.json\`.`,
    "",
    "![benchmarks](bench/chart.png)",
    "",
    "Targets, each against a floor measured in the same run, and where the time goes:",
    "",
    ...targets(r, s),
    "",
    ...(c
      ? [
          "Side by side with ctlptl (same node image and workers, same upstream and link):",
          "",
          "| | pulumi-kind-dev | ctlptl |",
          "| --- | ---: | ---: |",
          `| from nothing to a ready cluster with its registry | ${f1(o?.pulumi ?? NaN)} s | ${f1(c.ready)} s |`,
          `| recreation → all ${r.bench2.images} workload pods Running (${r.bench2.totalMiB} MiB, ${r.bench2.rate}) | ${f1(x?.cold ?? NaN)} s cold, ${f1(x?.warm ?? NaN)} s warm | ${f1(c.recreate)} s |`,
          `| bytes the upstream sent per recreation | ${gb(x?.coldBytes ?? NaN)} cold, ${gb(x?.warmBytes ?? NaN)} warm | ${gb(c.bytes)} |`,
          "",
        ]
      : []),
    ...featureTable(r.features ?? []),
    README_END,
  ].join("\n");
}

/** Replaces the block between the markers (in docs/benchmarks.md), when both are there. */
export function updateReadme(readme: string, block: string): string | undefined {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) {
    return undefined;
  }
  return readme.slice(0, a) + block + readme.slice(b + README_END.length);
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
    ...(r.smoke === true
      ? [
          "**Smoke run (`BENCH_SMOKE=1`): one small run of each benchmark, to check the harness; not the results.**",
          "",
        ]
      : []),
    `Measured ${r.date.slice(0, 10)} by \`npm run bench\` (test/bench/) in ${Math.round(r.totalSeconds / 60)} min, benchmarks ${(r.only ?? ["1", "2", "3"]).join(", ")} side by side in one run.`,
    `Machine: ${m["cores"]} cores (${m["cpu"]}), ${m["memGiB"]} GiB RAM, kernel ${m["kernel"]}, Docker ${m["docker"]}, ${m["kind"]}, Pulumi ${m["pulumi"]}${m["ctlptl"] ? `, ctlptl ${m["ctlptl"]}` : ""}, node image \`${m["nodeImage"]}\` (Kubernetes v1.34.0), 1 control plane + 1 worker.`,
    `Medians of ${r.runs.bench1} run(s) (benchmark 1), ${r.runs.bench2} (benchmark 2), ${r.runs.bench3} (benchmark 3), ${r.runs.bench4 ?? 0} (benchmark 4); every sample is in results.json.`,
    "",
    "## Targets",
    "",
    ...targets(r, s),
    "",
    "## Tables",
    "",
    markdownTables(r, s),
    s.dockerSave !== undefined
      ? `\`docker save\` alone of the ${sizeLabel(Math.max(...r.sizes))} incremental image (the first half of kind load): median ${f1(s.dockerSave)} s.\n`
      : "",
    r.linkCheck
      ? `Upstream link check (one ${r.linkCheck.blobBytes === undefined ? "16 MiB" : `${(r.linkCheck.blobBytes / 1048576).toFixed(0)} MiB`} blob over HTTP from the upstream): ${r.linkCheck.unlimitedMbit} Mbit/s without, ${r.linkCheck.limitedMbit} Mbit/s with \`tc ... tbf rate ${r.linkCheck.rate}\`; the targets use the limited figure.\n`
      : "",
    ...(r.notes.length > 0 ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
    "![chart](chart.png)",
    "",
    "## How to reproduce",
    "",
    "`npm ci && npm run bench` on a Linux machine with Docker (the test bed, test/bed/testbed.sh --node-image, and ctlptl, test/bed/ctlptl.sh, are built first; they need apt and the Go module proxy once). " +
      "`BENCH_SMOKE=1 npm run bench` is the quick check of the harness (every benchmark once, small; results go to `$TMPDIR/kdev-bench-smoke`). " +
      "Run counts and sizes come from the environment: `BENCH_RUNS` (default 3; `BENCH1_RUNS` ... `BENCH4_RUNS` per benchmark), `BENCH_ONLY=1,2,3,4`, " +
      "`BENCH_SIZES=100,500,1024` (MiB), `BENCH_RATE=100mbit`, `BENCH2_IMAGES=5`, `BENCH2_TOTAL_MIB=1024` (benchmarks 2 and 4), `BENCH_OUT=docs/bench`. " +
      "`npx ts-node --transpile-only test/bench/report.ts docs/bench` re-renders results.md and chart.png from results.json. " +
      "Everything the run creates is named `kdev-bench*` and removed at the end, also on failure.",
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "results.md"), md);
  console.log("\n" + markdownTables(r, s) + "\n" + targets(r, s).join("\n") + "\n");
  const svgFile = path.join(dir, "chart.svg.tmp");
  writeFileSync(svgFile, svgChart(r, s));
  const c = spawnSync("rsvg-convert", ["-o", path.join(dir, "chart.png"), svgFile], {
    encoding: "utf8",
  });
  if (c.status !== 0) {
    console.error(`rsvg-convert failed: ${c.stderr ?? c.error}`);
  }
  spawnSync("rm", ["-f", svgFile]);
  // docs/benchmarks.md's figures come from the committed results only (never from a smoke run).
  const repo = path.resolve(__dirname, "../..");
  if (r.smoke !== true && path.resolve(dir) === path.join(repo, "docs/bench")) {
    const readmeFile = path.join(repo, "docs/benchmarks.md");
    const next = updateReadme(readFileSync(readmeFile, "utf8"), readmeBlock(r, s));
    if (next !== undefined) {
      writeFileSync(readmeFile, next);
    }
  }
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? "docs/bench");
  const r = JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as Results;
  writeReport(r, dir);
}
