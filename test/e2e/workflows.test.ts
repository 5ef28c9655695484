/**
 * The workflows teams run, with the real clients they run them with, on real kind clusters and
 * the real Pulumi engine:
 *   - Tilt (`tilt ci`, built from github.com/tilt-dev/tilt v0.37.6) finds the registry through the
 *     KEP-1755 ConfigMap with no registry setting, builds, pushes and deploys;
 *   - an in-cluster build: a pod pushes with crane to hostFromClusterNetwork, pods run the image
 *     as `<registryName>:5000/...` and as `localhost:<port>/...`;
 *   - four upstreams (docker.io, ghcr.io, quay.io, registry.k8s.io), each a local stand-in behind
 *     its own cache, pulled by their real host names;
 *   - Docker restarted under the running environment;
 *   - a second stack (cluster `test`) sharing the registry and the caches, brought up with every
 *     upstream stopped; destroyed with `retainOnDestroy: false` while `dev` still uses them;
 *   - `pulumi up` interrupted (SIGINT) during cluster creation, then run again.
 * Each step prints its duration. Needs `npm run testbed:e2e`.
 *
 * KIND_DEV_E2E_NO_DAEMON_RESTART=1 skips the Docker restart (step 5, reported as skipped) on a
 * machine whose daemon other work shares at the time; it runs by default.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  BED_BIN,
  freePort,
  pulumiEnv,
  REPO_DIR,
  run,
  runAsync,
  TOOLS_ENV,
  tryRun,
  waitFor,
  WRAPPER_DIR,
} from "../support/bed";
import { daemonSetManifest, type Kube, podManifest } from "../support/kube";
import {
  buildAndPush,
  catalog,
  manifestOf,
  containerRunning,
  DevEnvironment,
  type DevStack,
  expectPulledThrough,
  identity,
  podImageDigests,
  type PushedImage,
  type Upstream,
} from "../support/lifecycle";

/** busybox + crane, built by test/bed/workflow-clients.sh: small, and a shell to build with. */
const CRANE_IMAGE = "kind-dev-bed/crane:v0.22.1";
const SKIP_DAEMON_RESTART = process.env["KIND_DEV_E2E_NO_DAEMON_RESTART"] === "1";
/** The repository pods name on each upstream's real host. */
const REPOS: Record<string, string> = {
  "docker.io": "library/wf-hub",
  "ghcr.io": "wf-team/wf-ghcr",
  "quay.io": "wf-team/wf-quay",
  "registry.k8s.io": "wf-k8s",
};
const env = new DevEnvironment(
  "workflows",
  "kdev-wf",
  Object.keys(REPOS).map((host) => ({ host })),
  ["kdev-wf-dev", "kdev-wf-test"],
);
const { registry: REGISTRY, network: NETWORK, upstreams: UPSTREAMS, step } = env;
/** What each upstream's stand-in holds, by host. */
const pushed = new Map<string, PushedImage>();
let dev: DevStack;
let test: DevStack;
let devKube: Kube;

function repo(u: Upstream): string {
  return REPOS[u.host] ?? "";
}

/** A pod `up-<slug>` running the upstream's image by its real host name. */
async function runUpstreamPod(kube: Kube, u: Upstream): Promise<void> {
  kube.apply(podManifest(`up-${u.slug}`, `${u.host}/${repo(u)}:1`, ["sleep", "3600"]));
  await kube.waitPhase(`up-${u.slug}`, "Running");
  expect(podImageDigests(kube, `app=up-${u.slug}`)).toEqual([pushed.get(u.host)?.digest]);
}

/** A fresh pull of the image built in the cluster, on the worker of dev, by its localhost name. */
async function freshPullOnDev(pod: string): Promise<void> {
  const image = `localhost:${env.registryPort}/inpod/hello:1`;
  devKube.apply(
    podManifest(pod, image, ["sleep", "3600"], { node: dev.nodes()[1], pullAlways: true }),
  );
  await devKube.waitPhase(pod, "Running");
}

describe("workflows: Tilt, in-cluster builds, four upstreams, two clusters, faults", () => {
  beforeAll(async () => {
    for (const tool of ["tilt", "crane"]) {
      if (tryRun("sh", ["-c", `test -x "${BED_BIN}/${tool}"`]).ok === false) {
        throw new Error(`${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' first`);
      }
    }
    if (!tryRun("docker", ["image", "inspect", CRANE_IMAGE]).ok) {
      throw new Error(`${CRANE_IMAGE} is missing: run 'npm run testbed:e2e' first`);
    }
    await env.setUp({ restartAlways: true });
    // Each upstream: a plain registry holding one image, named as on the real host, one
    // flattened layer of its own (busybox, crane, its marker): a node needs every blob of it
    // from that upstream's cache.
    for (const u of UPSTREAMS) {
      const dockerfile = `FROM ${CRANE_IMAGE}\nRUN echo ${u.host} > /marker\n`;
      pushed.set(u.host, await buildAndPush(u.standInPort, repo(u), "1", dockerfile, true));
    }
    dev = await env.stack(`wf-dev-${process.pid}`, "kdev-wf-dev", { retainOnDestroy: true });
    devKube = dev.kube;
  }, 600_000);

  afterAll(() => env.tearDown(), 900_000);

  step("1. pulumi up (dev): registry, four caches, two nodes Ready", async () => {
    await dev.upReady();
    for (const u of UPSTREAMS) {
      expect(containerRunning(u.cache)).toBe(true);
    }
  });

  step("2. Tilt: `tilt ci` finds the registry itself, pushes there, and the pod runs", async () => {
    const dir = mkdtempSync(path.join(env.backend, "tilt-"));
    // Tilt's legacy build leaves its intermediate containers; the label finds them.
    const label = `dev.pulumi-kind-dev.test=tilt-${process.pid}`;
    writeFileSync(
      path.join(dir, "Dockerfile"),
      `FROM ${CRANE_IMAGE}\nLABEL ${label}\nRUN echo tilt > /marker\n`,
    );
    writeFileSync(
      path.join(dir, "app.yaml"),
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "tilt-hello", namespace: "default" },
        spec: {
          selector: { matchLabels: { app: "tilt-hello" } },
          template: {
            metadata: { labels: { app: "tilt-hello" } },
            spec: {
              containers: [{ name: "main", image: "tilt-hello", command: ["sleep", "3600"] }],
            },
          },
        },
      }),
    );
    // No default_registry and no registry setting anywhere: Tilt reads the KEP-1755 ConfigMap.
    writeFileSync(
      path.join(dir, "Tiltfile"),
      "docker_build('tilt-hello', '.')\nk8s_yaml('app.yaml')\n",
    );
    const tilt = await runAsync(
      "tilt",
      ["ci", "--file", path.join(dir, "Tiltfile"), "--port", String(await freePort())],
      {
        env: { KUBECONFIG: devKube.kubeconfigFile, HOME: dir, DOCKER_BUILDKIT: "0" },
        timeoutMs: 600_000,
      },
    );
    const leftovers = run("docker", ["ps", "-aq", "--filter", `label=${label}`]).trim();
    for (const id of leftovers === "" ? [] : leftovers.split("\n")) {
      run("docker", ["rm", id]);
    }
    const log = `${tilt.stdout}${tilt.stderr}`;
    console.log(`[workflows] tilt ci (exit ${tilt.code}):\n${log.slice(-4000)}`);
    expect(tilt.code).toBe(0);
    const image = devKube.kubectl(
      "get",
      "deployment",
      "tilt-hello",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    );
    const tag = new RegExp(`^localhost:${env.registryPort}/tilt-hello:(tilt-[0-9a-f]+)$`).exec(
      image,
    )?.[1];
    expect(tag, image).toBeDefined();
    const built = await manifestOf(env.registryPort, "tilt-hello", tag ?? "");
    await devKube.waitPhase(devKube.runningPods("app=tilt-hello")[0]?.name ?? "", "Running");
    expect(podImageDigests(devKube, "app=tilt-hello")).toEqual([built.digest]);
    run("docker", ["image", "rm", image]);
  });

  step(
    "3. in-cluster build: a pod pushes to hostFromClusterNetwork; pods run it by both names",
    async () => {
      // The builder's own image reaches the cluster through the registry, as a team's would.
      const craneRef = `localhost:${env.registryPort}/tools/crane:v0.22.1`;
      run("docker", ["tag", CRANE_IMAGE, craneRef]);
      run("docker", ["push", craneRef]);
      run("docker", ["image", "rm", craneRef]);
      const hosting = parseYaml(devKube.registryHosting()) as { hostFromClusterNetwork: string };
      const inCluster = hosting.hostFromClusterNetwork;
      expect(inCluster).toBe(`${REGISTRY}:5000`);

      const script = [
        "set -eu",
        "mkdir -p /out",
        "echo built-in-cluster > /out/marker",
        "tar -C /out -cf /tmp/layer.tar .",
        'crane append --insecure -b "$REGISTRY/tools/crane:v0.22.1" -f /tmp/layer.tar -t "$REGISTRY/inpod/hello:1"',
      ].join("\n");
      devKube.apply(
        podManifest("builder", `${inCluster}/tools/crane:v0.22.1`, ["sh", "-c", script], {
          env: { REGISTRY: inCluster },
        }),
      );
      await devKube.waitPhase("builder", "Succeeded");
      const inPod = await manifestOf(env.registryPort, "inpod/hello", "1");

      for (const [app, host] of [
        ["inpod-cluster-name", inCluster],
        ["inpod-localhost", `localhost:${env.registryPort}`],
      ] as const) {
        devKube.apply(daemonSetManifest(app, `${host}/inpod/hello:1`, ["sleep", "3600"]));
        await devKube.waitOnNodes(`app=${app}`, dev.nodes());
        expect(podImageDigests(devKube, `app=${app}`)).toEqual([inPod.digest, inPod.digest]);
        const pod = devKube.runningPods(`app=${app}`)[0]?.name ?? "";
        expect(devKube.kubectl("exec", pod, "--", "cat", "/marker")).toBe("built-in-cluster\n");
      }
    },
  );

  step(
    "4. four upstreams: pods pull by the real host names, each through its own cache",
    async () => {
      await Promise.all(UPSTREAMS.map((u) => runUpstreamPod(devKube, u)));
      for (const u of UPSTREAMS) {
        expect(devKube.kubectl("exec", `up-${u.slug}`, "--", "cat", "/marker")).toBe(`${u.host}\n`);
        expect({ cache: u.cache, catalog: catalog(u.cachePort) }).toEqual({
          cache: u.cache,
          catalog: [repo(u)],
        });
        expectPulledThrough(u, repo(u), pushed.get(u.host) as PushedImage);
      }
    },
  );

  step(
    "5. Docker restarted under the environment: everything serves again, nothing lost",
    async (ctx) => {
      if (SKIP_DAEMON_RESTART) {
        ctx.skip("KIND_DEV_E2E_NO_DAEMON_RESTART=1: the Docker daemon is not restarted");
      }
      const before = catalog(env.registryPort);
      run("bash", [path.join(REPO_DIR, "test/bed/docker.sh"), "--restart-daemon"]);
      // The registry and caches run with --restart always; kind's nodes with on-failure:1.
      for (const port of [env.registryPort, ...UPSTREAMS.map((u) => u.cachePort)]) {
        await waitFor(
          `the registry on port ${port} answering again`,
          120_000,
          () => tryRun("curl", ["-fsS", `http://127.0.0.1:${port}/v2/`]).ok,
        );
      }
      await waitFor(
        "the dev cluster's API server",
        300_000,
        () => devKube.tryKubectl("get", "--raw", "/readyz").ok,
      );
      devKube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
      // The next pulumi up converges (it must not fail or recreate anything that came back).
      await dev.up();
      expect(catalog(env.registryPort)).toEqual(before);
      for (const u of UPSTREAMS) {
        expect(catalog(u.cachePort)).toEqual([repo(u)]);
      }
      await freshPullOnDev("after-daemon-restart");
    },
  );

  step(
    "6. with every upstream stopped, a second stack (cluster test) sharing registry and caches runs everything",
    async () => {
      for (const u of UPSTREAMS) {
        run("docker", ["stop", u.standIn]);
      }
      const started = UPSTREAMS.map((u) => identity(u.cache));
      test = await env.stack(`wf-test-${process.pid}`, "kdev-wf-test", {
        workers: 0,
        retainOnDestroy: false,
      });
      await test.upReady();
      // Adopted as they were: a cache could not start again without its upstream.
      expect(UPSTREAMS.map((u) => identity(u.cache))).toEqual(started);
      // Every upstream is stopped: what runs came from the caches.
      await Promise.all(UPSTREAMS.map((u) => runUpstreamPod(test.kube, u)));
      test.kube.apply(podManifest("inpod", `${REGISTRY}:5000/inpod/hello:1`, ["sleep", "3600"]));
      await test.kube.waitPhase("inpod", "Running");
      // dev works alongside: a fresh pull there too.
      await freshPullOnDev("dev-alongside");
    },
  );

  step(
    "7. destroying test (retainOnDestroy: false) keeps what dev uses, says why; dev keeps working",
    async () => {
      const output = await test.destroy();
      for (const c of env.kept()) {
        expect(output).toContain(
          `kept ${c} and its volume ${c}-data although retainOnDestroy is false: kind cluster(s) ${dev.cluster} still pull through it.`,
        );
        expect(containerRunning(c)).toBe(true);
      }
      // The test made the network for its upstream stand-ins: not the stack's to remove.
      expect(output).toContain(
        `kept docker network ${NETWORK}: pulumi-kind-dev did not create it (kind or another tool did, or an earlier version of this package)`,
      );
      await freshPullOnDev("after-test-destroyed");
      // The upstreams are back for the next step's images.
      for (const u of UPSTREAMS) {
        run("docker", ["start", u.standIn]);
      }
    },
  );

  step(
    "8. pulumi up interrupted (SIGINT) during cluster creation, run again: it converges",
    async () => {
      const child = spawn(
        "pulumi",
        ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", test.name],
        {
          cwd: REPO_DIR,
          env: { ...TOOLS_ENV, ...pulumiEnv(env.backend, `${WRAPPER_DIR}:`) },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | NodeJS.Signals>((resolve) =>
        child.on("close", (code, signal) => resolve(code ?? signal ?? -1)),
      );
      // kind has started the node container: the cluster's create is in flight.
      await waitFor(
        "kind creating the test cluster's node",
        300_000,
        () => tryRun("docker", ["inspect", test.nodes()[0] ?? ""]).ok,
      );
      child.kill("SIGINT");
      const code = await exited;
      console.log(`[workflows] interrupted pulumi up (exit ${code}):\n${output.slice(-3000)}`);
      // Pulumi cancels the update (no new step starts) and fails it: exit 1, not a success.
      expect(output).toContain("received; cancelling.");
      expect(code).toBe(1);
      // Run again: no manual step.
      await test.upReady();
      await runUpstreamPod(test.kube, UPSTREAMS[0] as Upstream);
    },
  );
});
