/** Benchmark 1: image delivery, `kind load docker-image` vs `docker push` to the registry. */
import { run, tryRun } from "../support/bed";
import * as ctx from "./context";
import { buildPair, imageBytes } from "./images";
import { type Results } from "./report";

const DS = (name: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${name} } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: "100%" } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 0
      tolerations: [{ operator: Exists }]
      containers: [{ name: app, image: "${ctx.PAUSE}", imagePullPolicy: IfNotPresent }]
`;

interface Pod {
  metadata: { deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; containerStatuses?: { state: { running?: object } }[] };
}

/** True when a pod of `selector` runs `image` (its container running) on every node. */
function runningEverywhere(selector: string, image: string): boolean {
  const r = ctx.tryKubectl(ctx.state.kubeconfigFile, "get", "pods", "-l", selector, "-o", "json");
  const pods = r.ok ? (JSON.parse(r.out.slice(r.out.indexOf("{"))) as { items: Pod[] }).items : [];
  const running = pods.filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.spec.containers[0]?.image === image &&
      p.status.containerStatuses?.[0]?.state.running !== undefined,
  );
  return ctx.nodes().every((n) => running.some((p) => p.spec.nodeName === n));
}

async function setImage(ds: string, image: string): Promise<void> {
  ctx.kubectl("set", "image", `daemonset/${ds}`, `app=${image}`);
  await ctx.waitFor(`${ds} running ${image} on every node`, 900_000, () =>
    runningEverywhere(`app=${ds}`, image),
  );
}

/** `kind load` or `docker push` of `tag`, then the rollout: seconds, and what the pods run. */
async function deliver(method: "kind" | "registry", tag: string) {
  const t0 = Date.now();
  let ref = tag;
  if (method === "kind") {
    run("kind", ["load", "docker-image", tag, "--name", ctx.CLUSTER]);
  } else {
    run("docker", ["push", "-q", tag]);
    ref = run("docker", ["image", "inspect", "-f", "{{index .RepoDigests 0}}", tag]).trim();
  }
  const t1 = Date.now();
  await setImage(`bench-${method}`, ref);
  const t2 = Date.now();
  const [total, transfer, rollout] = [t2 - t0, t1 - t0, t2 - t1].map(ctx.secs) as [
    number,
    number,
    number,
  ];
  return { total, transfer, rollout, ref };
}

export async function bench1(results: Results): Promise<void> {
  ctx.log("benchmark 1: the 1+1 cluster (npm run up)");
  await ctx.npmUp();
  ctx.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
  ctx.apply(DS("bench-kind") + "---\n" + DS("bench-registry"));
  await ctx.waitFor(
    "baseline DaemonSets",
    300_000,
    () =>
      runningEverywhere("app=bench-kind", ctx.PAUSE) &&
      runningEverywhere("app=bench-registry", ctx.PAUSE),
  );
  for (const size of ctx.SIZES) {
    for (let r = 0; r < ctx.RUNS; r++) {
      const id = `${size}m-r${r}-${Date.now() % 100000}`;
      ctx.log(`benchmark 1: ${size} MiB round ${r + 1}/${ctx.RUNS}: building images`);
      const kindImg = buildPair(`kdev-bench/kind-${id}`, size);
      const regImg = buildPair(`localhost:${ctx.state.registryPort}/bench/reg-${id}`, size);
      const bytes = imageBytes(kindImg.cold);
      // Alternate which method goes first, so neither always runs on a warmer page cache.
      const order = r % 2 === 0 ? (["kind", "registry"] as const) : (["registry", "kind"] as const);
      const refs: string[] = [];
      for (const mode of ["cold", "incremental"] as const) {
        for (const method of order) {
          const tag = method === "kind" ? kindImg : regImg;
          const ref = mode === "cold" ? tag.cold : tag.incr;
          const { ref: pulled, ...s } = await deliver(method, ref);
          refs.push(method === "kind" ? `docker.io/${pulled}` : pulled);
          results.samples.push({ what: "delivery", round: r, size, mode, method, bytes, ...s });
          ctx.log(
            `  ${size} MiB ${mode} ${method}: ${s.total}s (transfer ${s.transfer}s, rollout ${s.rollout}s)`,
          );
        }
      }
      // Back to the baseline, then free the nodes' and the host's disk for the next round.
      await setImage("bench-kind", ctx.PAUSE);
      await setImage("bench-registry", ctx.PAUSE);
      for (const node of ctx.nodes()) {
        tryRun("docker", ["exec", node, "crictl", "rmi", ...refs]);
      }
      tryRun("docker", ["rmi", "-f", kindImg.cold, kindImg.incr, regImg.cold, regImg.incr]);
    }
  }
  ctx.destroy();
}
