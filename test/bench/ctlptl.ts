/**
 * ctlptl (github.com/tilt-dev/ctlptl, built by test/bed/ctlptl.sh), the closest peer, side by
 * side in the same run: the same node image and worker count, its own registry, and the same
 * Docker Hub stand-in behind the same limited link as benchmark 2.
 *
 *   from nothing (benchmark 3): `ctlptl apply -f` of a Registry and a kind Cluster until it
 *             returns (ctlptl waits for the API server and writes the KEP-1755 ConfigMap).
 *   recreation (benchmark 4): `ctlptl delete cluster` (ctlptl keeps the registry), then `ctlptl
 *             apply -f` again and benchmark 2's workload until every pod is Running. ctlptl has
 *             no pull-through cache: every recreation pulls the workload over the link.
 *
 * The nodes reach the upstream as a ctlptl user would set it up: the cluster joins its docker
 * network (KIND_EXPERIMENTAL_DOCKER_NETWORK) and a docker.io hosts.toml on every node names it
 * (the real Docker Hub needs none), written right after ctlptl returns and counted in the time.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { freePort, run, tryRun } from "../support/bed";
import * as ctx from "./context";
import { inspectTool, markerServed, pushMarker } from "./features";
import { prepareUpstream, recreation } from "./recreate";
import { type Results } from "./report";

/** ctlptl's Registry and Cluster: the same node image and worker count as the dev stack's. */
function ctlptlSpec(registryPort: number): string {
  const node = (role: string) => `\n    - { role: ${role}, image: "${ctx.NODE_IMAGE}" }`;
  const workers = Array.from({ length: ctx.resolved().workers }, () => node("worker")).join("");
  return `apiVersion: ctlptl.dev/v1alpha1
kind: Registry
name: ${ctx.CTLPTL_REGISTRY}
port: ${registryPort}
---
apiVersion: ctlptl.dev/v1alpha1
kind: Cluster
product: kind
name: kind-${ctx.CTLPTL_CLUSTER}
registry: ${ctx.CTLPTL_REGISTRY}
kindV1Alpha4Cluster:
  nodes:${node("control-plane")}${workers}
`;
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
    KIND_EXPERIMENTAL_DOCKER_NETWORK: ctx.NETWORK,
    ...(major === 1 && minor < 44 ? { DOCKER_API_VERSION: api } : {}),
  };
}

/** The stand-in's route on one node: docker.io pulls go to the upstream container. */
function standInRoute(node: string): void {
  const url = `http://${ctx.UPSTREAM}:5000`;
  const dir = "/etc/containerd/certs.d/docker.io";
  const input = `server = "${url}"\n\n[host."${url}"]\n  capabilities = ["pull", "resolve"]\n`;
  const script = `mkdir -p ${dir} && cat > ${dir}/hosts.toml`;
  run("docker", ["exec", "-i", node, "sh", "-c", script], { input });
}

interface Ctlptl {
  file: string;
  port: number;
  kubeconfig: string;
  env: Record<string, string>;
}
let setUp: Ctlptl | undefined;

/** ctlptl's spec (a free port for its registry) and environment, made once per run. */
async function setup(results: Results): Promise<Ctlptl> {
  if (setUp === undefined) {
    const kubeconfig = path.join(ctx.state.workDir, "ctlptl-kubeconfig");
    const c = { file: path.join(ctx.state.workDir, "ctlptl.yaml"), port: await freePort() };
    setUp = { ...c, kubeconfig, env: ctlptlEnv(kubeconfig) };
    writeFileSync(c.file, ctlptlSpec(c.port));
    // `ctlptl version` prints "v0.9.3, built <date>" (no date in a build from the module).
    results.environment["ctlptl"] = ctlptl(setUp, "version").trim().split(",")[0] ?? "";
  }
  return setUp;
}

const ctlptl = (c: Ctlptl, ...args: string[]) => run("ctlptl", args, { env: c.env });

/**
 * `ctlptl apply -f` of its Registry and Cluster from nothing, timed until it returns, then again
 * with nothing to change. The first time, what it set up is read back, and a marker pushed to its
 * registry is looked up after `ctlptl delete cluster` and `apply`. Leaves the registry.
 */
export async function ctlptlFromNothing(results: Results, round = 0): Promise<number> {
  const c = await setup(results);
  tryRun("kind", ["delete", "cluster", "--name", ctx.CTLPTL_CLUSTER]);
  ctx.removeContainer(ctx.CTLPTL_REGISTRY);
  const t0 = Date.now();
  ctlptl(c, "apply", "-f", c.file);
  const total = ctx.secs(Date.now() - t0);
  const t1 = Date.now();
  ctlptl(c, "apply", "-f", c.file);
  results.samples.push({ what: "ctlptl-no-change", round, total: ctx.secs(Date.now() - t1) });
  if (!results.features.some((f) => f.tool === "ctlptl")) {
    results.features.push(
      inspectTool("ctlptl", ctx.CTLPTL_REGISTRY, ctx.nodes(ctx.CTLPTL_CLUSTER), c.kubeconfig),
    );
    pushMarker(c.port);
    ctlptl(c, "delete", "cluster", `kind-${ctx.CTLPTL_CLUSTER}`);
    ctlptl(c, "apply", "-f", c.file);
    const f = results.features.find((x) => x.tool === "ctlptl");
    Object.assign(f ?? {}, {
      keptAcrossClusterDeletion: markerServed(c.port),
      deletedWith: "`ctlptl delete cluster`, then `ctlptl apply`",
    });
  }
  ctlptl(c, "delete", "cluster", `kind-${ctx.CTLPTL_CLUSTER}`);
  return total;
}

/**
 * Benchmark 4: ctlptl's recreation (its registry kept) with benchmark 2's workload over the same
 * link, until every pod runs.
 */
export async function bench4(results: Results): Promise<void> {
  prepareUpstream(results);
  if (!tryRun("docker", ["inspect", ctx.CTLPTL_REGISTRY]).ok) {
    await ctlptlFromNothing(results);
  }
  const c = await setup(results);
  for (let r = 0; r < ctx.RUNS; r++) {
    ctx.log(
      `benchmark 4: round ${r + 1}/${ctx.RUNS}: ctlptl recreation (registry kept) + workload`,
    );
    const { total, up, pods, upstreamBytes } = await recreation(() => {
      ctlptl(c, "apply", "-f", c.file);
      ctx.nodes(ctx.CTLPTL_CLUSTER).forEach(standInRoute);
    }, c.kubeconfig);
    results.samples.push({ what: "ctlptl-recreate", round: r, total, up, pods, upstreamBytes });
    ctx.log(`  ctlptl recreation: ${total}s (apply and hosts.toml ${up}s, pods ${pods}s)`);
    ctlptl(c, "delete", "cluster", `kind-${ctx.CTLPTL_CLUSTER}`);
  }
  ctx.removeContainer(ctx.CTLPTL_REGISTRY);
}
