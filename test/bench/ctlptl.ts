/**
 * Benchmark 4: ctlptl (github.com/tilt-dev/ctlptl, built by test/bed/ctlptl.sh), the closest
 * peer, side by side in the same run: the same node image and worker count, its own registry,
 * and the same Docker Hub stand-in behind the same limited link as benchmark 2.
 *
 *   ready:    `ctlptl apply -f` of a Registry and a kind Cluster, from nothing, until it returns
 *             (ctlptl waits for the API server and writes the KEP-1755 ConfigMap).
 *   recreate: `ctlptl delete cluster` (ctlptl keeps the registry), then `ctlptl apply -f` again
 *             and benchmark 2's workload until every pod is Running. ctlptl has no pull-through
 *             cache, so every recreation pulls the workload from the upstream over the link.
 *
 * How the nodes reach the upstream, as a ctlptl user would set it up: the cluster joins the
 * upstream's docker network (KIND_EXPERIMENTAL_DOCKER_NETWORK, which kind and ctlptl both read),
 * and a hosts.toml for docker.io on every node names the stand-in (ctlptl points containerd at
 * /etc/containerd/certs.d). With the real Docker Hub that file is not needed; it is the stand-in's
 * route, written right after ctlptl returns and counted in the recreation's time.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { freePort, run, tryRun } from "../support/bed";
import {
  waitFor,
  RUNS4,
  NODE_IMAGE,
  NETWORK,
  UPSTREAM,
  CTLPTL_CLUSTER,
  CTLPTL_REGISTRY,
  B2_IMAGES,
  log,
  secs,
  state,
  apply,
  up,
  destroy,
  nodes,
  resolved,
  removeContainer,
} from "./context";
import { inspectTool, markerServed, pushMarker } from "./features";
import { prepareUpstream, upstreamSentBytes, workload, workloadRunning } from "./recreate";
import { type Results } from "./report";

/** ctlptl's Registry and Cluster: the same node image and worker count as the dev stack's. */
export function ctlptlSpec(registryPort: number, nodeImage: string, workers: number): string {
  const node = (role: string) => `    - role: ${role}\n      image: ${nodeImage}\n`;
  return (
    `apiVersion: ctlptl.dev/v1alpha1
kind: Registry
name: ${CTLPTL_REGISTRY}
port: ${registryPort}
---
apiVersion: ctlptl.dev/v1alpha1
kind: Cluster
product: kind
name: kind-${CTLPTL_CLUSTER}
registry: ${CTLPTL_REGISTRY}
kindV1Alpha4Cluster:
  nodes:
` +
    node("control-plane") +
    Array.from({ length: workers }, () => node("worker")).join("")
  );
}

/**
 * Environment for ctlptl: its own kubeconfig, the upstream's network for the cluster, and
 * (Docker 20.10 here) the daemon's API version: ctlptl 0.9.3's Docker client negotiates no lower
 * than API 1.44 and the daemon speaks 1.41, so DOCKER_API_VERSION fixes the version instead.
 */
function ctlptlEnv(kubeconfig: string): Record<string, string> {
  const api = run("docker", ["version", "-f", "{{.Server.APIVersion}}"]).trim();
  const [major = 0, minor = 0] = api.split(".").map(Number);
  return {
    KUBECONFIG: kubeconfig,
    KIND_EXPERIMENTAL_DOCKER_NETWORK: NETWORK,
    ...(major === 1 && minor < 44 ? { DOCKER_API_VERSION: api } : {}),
  };
}

/** The stand-in's route on one node: docker.io pulls go to the upstream container. */
function standInRoute(node: string): void {
  const url = `http://${UPSTREAM}:5000`;
  run(
    "docker",
    [
      "exec",
      "-i",
      node,
      "sh",
      "-c",
      "mkdir -p /etc/containerd/certs.d/docker.io && cat > /etc/containerd/certs.d/docker.io/hosts.toml",
    ],
    { input: `server = "${url}"\n\n[host."${url}"]\n  capabilities = ["pull", "resolve"]\n` },
  );
}

/** When benchmark 2 did not run: the component's feature row from one destroy/up cycle. */
async function oursFeatures(results: Results): Promise<void> {
  log("benchmark 4: the component's features (pulumi up, destroy, up)");
  await up();
  results.features.push(
    inspectTool("pulumi-kind-dev", resolved().registry.spec.name, nodes(), state.kubeconfigFile),
  );
  pushMarker(state.registryPort);
  await destroy();
  await up();
  const f = results.features.find((x) => x.tool === "pulumi-kind-dev");
  if (f) {
    f.keptAcrossClusterDeletion = markerServed(state.registryPort);
    f.deletedWith = "`pulumi destroy`, then `pulumi up`";
  }
  await destroy();
}

export async function bench4(results: Results): Promise<void> {
  prepareUpstream(results);
  if (!results.features.some((f) => f.tool === "pulumi-kind-dev")) {
    await oursFeatures(results);
  }
  const port = await freePort();
  const kubeconfig = path.join(state.workDir, "ctlptl-kubeconfig");
  const specFile = path.join(state.workDir, "ctlptl.yaml");
  writeFileSync(specFile, ctlptlSpec(port, NODE_IMAGE, resolved().workers));
  const env = ctlptlEnv(kubeconfig);
  const ctlptl = (...args: string[]) => run("ctlptl", args, { env });
  const ctlNodes = nodes(CTLPTL_CLUSTER);
  // `ctlptl version` prints "v0.9.3, built <date>" (no date in a build from the module).
  results.machine["ctlptl"] = ctlptl("version").trim().split(",")[0] ?? "";
  for (let r = 0; r < RUNS4; r++) {
    tryRun("kind", ["delete", "cluster", "--name", CTLPTL_CLUSTER]);
    removeContainer(CTLPTL_REGISTRY);
    log(`benchmark 4: run ${r + 1}/${RUNS4}: ctlptl apply (registry + cluster) from nothing`);
    let t0 = Date.now();
    ctlptl("apply", "-f", specFile);
    const ready = secs(Date.now() - t0);
    results.ctlptl.push({ what: "ready", run: r, total: ready });
    log(`  ctlptl from nothing to a ready cluster with its registry: ${ready}s`);
    if (r === 0) {
      results.features.push(inspectTool("ctlptl", CTLPTL_REGISTRY, ctlNodes, kubeconfig));
      pushMarker(port);
    }
    ctlptl("delete", "cluster", `kind-${CTLPTL_CLUSTER}`);
    log(`benchmark 4: run ${r + 1}/${RUNS4}: recreation (registry kept) + workload`);
    const sent0 = upstreamSentBytes();
    t0 = Date.now();
    ctlptl("apply", "-f", specFile);
    const t1 = Date.now();
    for (const n of ctlNodes) {
      standInRoute(n);
    }
    apply(workload(B2_IMAGES), kubeconfig);
    await waitFor(
      "ctlptl workload running",
      1_800_000,
      () => workloadRunning(B2_IMAGES, kubeconfig),
      500,
    );
    const t2 = Date.now();
    const upstreamBytes = upstreamSentBytes() - sent0;
    results.ctlptl.push({
      what: "recreate",
      run: r,
      total: secs(t2 - t0),
      create: secs(t1 - t0),
      pods: secs(t2 - t1),
      upstreamBytes,
    });
    log(
      `  ctlptl recreation: ${secs(t2 - t0)}s (ctlptl apply ${secs(t1 - t0)}s, pods ${secs(t2 - t1)}s); upstream sent ${upstreamBytes} B`,
    );
    if (r === 0) {
      const f = results.features.find((x) => x.tool === "ctlptl");
      if (f) {
        f.keptAcrossClusterDeletion = markerServed(port);
        f.deletedWith = "`ctlptl delete cluster`, then `ctlptl apply`";
      }
    }
    ctlptl("delete", "cluster", `kind-${CTLPTL_CLUSTER}`);
  }
  removeContainer(CTLPTL_REGISTRY);
}
