/** Benchmark 2: cluster recreation with an empty vs a warm pull-through cache. */
import { run, tryRun } from "../support/bed";
import * as ctx from "./context";
import { buildImage } from "./images";
import { inspectTool, markerServed, pushMarker } from "./features";
import { type Results } from "./report";

const workload = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: w${i}, namespace: default }
spec:
  selector: { matchLabels: { app: w${i} } }
  template:
    metadata: { labels: { app: w${i}, bench: workload } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: app, image: "docker.io/library/bench-app${i}:1" }]
`,
  ).join("---\n");

function workloadRunning(kubeconfig: string): boolean {
  const running = ctx.tryKubectl(
    ...[kubeconfig, "get", "pods", "-n", "default", "-l", "bench=workload", "-o"],
    'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.labels.app} {end}',
  );
  const apps = new Set(running.out.split(" ").filter((l) => /^w\d+$/.test(l)));
  return running.ok && apps.size === ctx.WORKLOAD_IMAGES;
}

/**
 * `up` (a recreation), then the workload until every pod is Running: seconds in all, of `up`, of
 * the pods after it, and the bytes the upstream sent meanwhile.
 */
export async function recreation<T>(
  up: () => Promise<T> | T,
  kubeconfig = ctx.state.kubeconfigFile,
) {
  const sent0 = upstreamSentBytes();
  const t0 = Date.now();
  const result = await up();
  const t1 = Date.now();
  ctx.apply(workload(ctx.WORKLOAD_IMAGES), kubeconfig);
  await ctx.waitFor("workload", 1_800_000, () => workloadRunning(kubeconfig));
  const t2 = Date.now();
  const [total, upSecs, pods] = [t2 - t0, t1 - t0, t2 - t1].map(ctx.secs) as [
    number,
    number,
    number,
  ];
  return { result, total, up: upSecs, pods, upstreamBytes: upstreamSentBytes() - sent0 };
}

/** Runs a command in the upstream container's network namespace (tc). */
const inUpstreamNet = (...args: string[]) =>
  run("nsenter", [
    "-t",
    run("docker", ["inspect", "-f", "{{.State.Pid}}", ctx.UPSTREAM]).trim(),
    "-n",
    ...args,
  ]);

function upstreamManifest(repo: string): {
  layers: { digest: string; size: number }[];
  config: { size: number };
} {
  const accept = "Accept: application/vnd.docker.distribution.manifest.v2+json";
  const url = `http://127.0.0.1:${ctx.state.upstreamPort}/v2/${repo}/manifests/1`;
  return JSON.parse(run("curl", ["-fsS", "-H", accept, url])) as ReturnType<
    typeof upstreamManifest
  >;
}

/** GETs the largest blob of `repo` from the upstream through its link: its rate in Mbit/s. */
function linkMbit(repo: string): { mbit: number; bytes: number } {
  const big = upstreamManifest(repo).layers.reduce((a, b) => (b.size > a.size ? b : a));
  const t0 = Date.now();
  const url = `http://127.0.0.1:${ctx.state.upstreamPort}/v2/${repo}/blobs/${big.digest}`;
  run("curl", ["-fsS", "-o", "/dev/null", url]);
  return { mbit: Math.round((big.size * 8) / (Date.now() - t0) / 100) / 10, bytes: big.size };
}

/** Bytes the upstream has sent so far on its (limited) link: its egress qdisc's counter. */
function upstreamSentBytes(): number {
  const m = /Sent (\d+) bytes/.exec(inUpstreamNet("tc", "-s", "qdisc", "show", "dev", "eth0"));
  return m ? Number(m[1]) : NaN;
}

/**
 * Fills the upstream (the Docker Hub stand-in) with the workload of benchmarks 2 and 4 and limits
 * its link with a token bucket on its egress; measures the link with a blob fetch before and after.
 */
export function prepareUpstream(results: Results): void {
  if (ctx.state.upstreamReady) {
    return;
  }
  ctx.log(`upstream: ${ctx.WORKLOAD_IMAGES} images, ${ctx.WORKLOAD_MIB} MiB in total`);
  let bytes = 0;
  for (let i = 0; i < ctx.WORKLOAD_IMAGES; i++) {
    const ref = `127.0.0.1:${ctx.state.upstreamPort}/library/bench-app${i}:1`;
    buildImage(ref, [
      ctx.WORKLOAD_MIB / ctx.WORKLOAD_IMAGES / 2,
      ctx.WORKLOAD_MIB / ctx.WORKLOAD_IMAGES / 2,
    ]);
    run("docker", ["push", "-q", ref]);
    tryRun("docker", ["rmi", "-f", ref]);
    // What the nodes must fetch at the least: every blob of the workload's images, once.
    const m = upstreamManifest(`library/bench-app${i}`);
    bytes += m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
  }
  results.workload.bytes = bytes;
  const before = linkMbit("library/bench-app0");
  inUpstreamNet(
    ...["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", ctx.RATE],
    ...["burst", "256kb", "latency", "50ms"],
  );
  const after = linkMbit(`library/bench-app${Math.min(1, ctx.WORKLOAD_IMAGES - 1)}`);
  results.linkCheck = {
    rate: ctx.RATE,
    unlimitedMbit: before.mbit,
    limitedMbit: after.mbit,
    blobBytes: after.bytes,
  };
  ctx.log(
    `  upstream link: ${before.mbit} Mbit/s unlimited, ${after.mbit} Mbit/s with tc ${ctx.RATE}`,
  );
  ctx.state.upstreamReady = true;
}

export async function bench2(results: Results): Promise<void> {
  prepareUpstream(results);
  for (let r = 0; r < ctx.RUNS; r++) {
    for (const mode of ["cold", "warm"] as const) {
      if (mode === "cold") {
        // Empty cache: the component recreates the cache container on its new, empty volume.
        for (const c of ctx.resolved().caches) {
          ctx.removeContainer(c.spec.name, c.spec.volume);
        }
      }
      ctx.log(`benchmark 2: round ${r + 1}/${ctx.RUNS} ${mode}: npm run up + workload`);
      const { result: up, total, upstreamBytes } = await recreation(ctx.npmUp);
      results.ups.push({ what: `${mode}-recreation`, round: r, ...up });
      const pods = Math.round((total - up.wall) * 1000) / 1000;
      results.samples.push({ what: `recreate-${mode}`, round: r, total, pods, upstreamBytes });
      ctx.log(
        `  ${mode}: ${total}s (npm run up ${up.wall}s, pods ${pods}s); upstream sent ${upstreamBytes} B`,
      );
      const ours = results.features.find((x) => x.tool === "pulumi-kind-dev");
      if (ours === undefined) {
        // What the component set up, and whether the registry's content outlives the cluster
        // (npm run down keeps the registry): checked on the next recreation.
        const registry = ctx.resolved().registry.spec.name;
        results.features.push(
          inspectTool("pulumi-kind-dev", registry, ctx.nodes(), ctx.state.kubeconfigFile),
        );
        pushMarker(ctx.state.registryPort);
      } else if (ours.keptAcrossClusterDeletion === undefined) {
        ours.keptAcrossClusterDeletion = markerServed(ctx.state.registryPort);
        ours.deletedWith = "`npm run down`, then `npm run up`";
      }
      ctx.destroy();
    }
  }
}
