/** Benchmark 1: image delivery, `kind load docker-image` vs `docker push` to the registry. */
import { rmSync } from "node:fs";
import * as path from "node:path";
import { run, tryRun } from "../support/bed";
import {
  waitFor,
  PAUSE,
  RUNS1,
  SIZES,
  CLUSTER,
  log,
  secs,
  state,
  kubectl,
  apply,
  up,
  destroy,
  nodes,
} from "./context";
import { buildPair, imageBytes } from "./images";
import { type Results, type Sample } from "./report";

// Benchmark 1: image delivery

export const DS = (name: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: default
spec:
  selector:
    matchLabels: { app: ${name} }
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "100%" }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 0
      tolerations:
        - operator: Exists
      containers:
        - name: app
          image: ${PAUSE}
          imagePullPolicy: IfNotPresent
`;

export interface PodInfo {
  metadata: { deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; containerStatuses?: { ready: boolean; state: { running?: object } }[] };
}

/** True when a Running pod with `image` (and its container running) exists on every node. */
export function runningEverywhere(selector: string, image: string): boolean {
  const r = tryRun("kubectl", [
    "--kubeconfig",
    state.kubeconfigFile,
    "get",
    "pods",
    "-n",
    "default",
    "-l",
    selector,
    "-o",
    "json",
  ]);
  if (!r.ok) {
    return false;
  }
  const items = (JSON.parse(r.out.slice(r.out.indexOf("{"))) as { items: PodInfo[] }).items;
  const onNodes = new Set(
    items
      .filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status.phase === "Running" &&
          p.spec.containers[0]?.image === image &&
          p.status.containerStatuses?.[0]?.state.running !== undefined,
      )
      .map((p) => p.spec.nodeName),
  );
  return nodes().every((n) => onNodes.has(n));
}

export async function setImage(ds: string, image: string): Promise<void> {
  kubectl("set", "image", `daemonset/${ds}`, `app=${image}`);
  await waitFor(`${ds} running ${image} on every node`, 900_000, () =>
    runningEverywhere(`app=${ds}`, image),
  );
}

export function nodeRmi(refs: string[]): void {
  for (const node of nodes()) {
    tryRun("docker", ["exec", node, "crictl", "rmi", ...refs]);
  }
}

export async function deliverKind(tag: string): Promise<Sample> {
  const t0 = Date.now();
  run("kind", ["load", "docker-image", tag, "--name", CLUSTER]);
  const t1 = Date.now();
  await setImage("bench-kind", tag);
  const t2 = Date.now();
  return { total: secs(t2 - t0), transfer: secs(t1 - t0), rollout: secs(t2 - t1) };
}

export async function deliverRegistry(tag: string): Promise<Sample> {
  const t0 = Date.now();
  run("docker", ["push", "-q", tag]);
  const digest = run("docker", ["image", "inspect", "-f", "{{index .RepoDigests 0}}", tag]).trim();
  const t1 = Date.now();
  await setImage("bench-reg", digest);
  const t2 = Date.now();
  return { total: secs(t2 - t0), transfer: secs(t1 - t0), rollout: secs(t2 - t1), ref: digest };
}

export async function bench1(results: Results): Promise<void> {
  log("benchmark 1: creating the 1+1 cluster with pulumi up");
  await up();
  kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
  apply(DS("bench-kind") + "---\n" + DS("bench-reg"));
  await waitFor(
    "baseline DaemonSets",
    300_000,
    () => runningEverywhere("app=bench-kind", PAUSE) && runningEverywhere("app=bench-reg", PAUSE),
  );
  const regHost = `localhost:${state.registryPort}`;
  for (const size of SIZES) {
    for (let r = 0; r < RUNS1; r++) {
      const id = `${size}m-r${r}-${Date.now() % 100000}`;
      log(`benchmark 1: ${size} MiB run ${r + 1}/${RUNS1}: building images`);
      const kindImg = buildPair(`kdev-bench/kind-${id}`, size);
      const regImg = buildPair(`${regHost}/bench/reg-${id}`, size);
      const bytes = imageBytes(kindImg.cold);
      // Alternate which method goes first, so neither always runs on a warmer page cache.
      const order: ("kind" | "registry")[] =
        r % 2 === 0 ? ["kind", "registry"] : ["registry", "kind"];
      for (const mode of ["cold", "incremental"] as const) {
        for (const method of order) {
          const tag = method === "kind" ? kindImg : regImg;
          const ref = mode === "cold" ? tag.cold : tag.incr;
          const s = method === "kind" ? await deliverKind(ref) : await deliverRegistry(ref);
          s.bytes = bytes;
          results.delivery.push({ size, mode, method, run: r, ...s });
          log(
            `  ${size} MiB ${mode} ${method}: ${s.total}s (transfer ${s.transfer}s, rollout ${s.rollout}s)`,
          );
        }
      }
      if (size === Math.max(...SIZES)) {
        // Where kind load spends its time: docker save alone (kind load = save + ctr import per node).
        const tar = path.join(state.workDir, "save.tar");
        const t0 = Date.now();
        run("docker", ["save", "-o", tar, kindImg.incr]);
        const saveS = secs(Date.now() - t0);
        rmSync(tar, { force: true });
        results.split.push({ size, run: r, dockerSave: saveS });
        log(`  docker save of the ${size} MiB incremental image alone: ${saveS}s`);
      }
      // Back to the baseline, then free the nodes' and the host's disk for the next run.
      await setImage("bench-kind", PAUSE);
      await setImage("bench-reg", PAUSE);
      const digests = results.delivery
        .filter((d) => d.size === size && d.run === r && d.method === "registry" && d.ref)
        .map((d) => d.ref as string);
      nodeRmi([`docker.io/${kindImg.cold}`, `docker.io/${kindImg.incr}`, ...digests]);
      tryRun("docker", ["rmi", "-f", kindImg.cold, kindImg.incr, regImg.cold, regImg.incr]);
    }
  }
  log("benchmark 1: pulumi destroy");
  await destroy();
}
