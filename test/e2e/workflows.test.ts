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
 * KIND_DEV_E2E_NO_DAEMON_RESTART=1 skips the Docker restart (step 5) on a machine whose daemon
 * other work shares at the time; it runs by default.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { parse as parseYaml } from "yaml";
import { LOCAL_REGISTRY_HOSTING } from "../../components/render/localRegistryHosting";
import {
  BED_BIN,
  devStack,
  type DevStackSettings,
  freePort,
  pulumiEnv,
  REPO_DIR,
  requireE2eBed,
  run,
  runAsync,
  startRegistryStandIn,
  TOOLS_ENV,
  tryRun,
  waitFor,
  WRAPPER_DIR,
} from "../support/bed";
import { daemonSetManifest, e2eStep, Kube, podManifest } from "../support/kube";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
/** busybox + crane, built by test/bed/workflow-clients.sh: small, and a shell to build with. */
const CRANE_IMAGE = "kind-dev-bed/crane:v0.22.1";
const PID = process.pid;
const DEV = { stack: `wf-dev-${PID}`, cluster: "kdev-wf-dev" };
const TEST = { stack: `wf-test-${PID}`, cluster: "kdev-wf-test" };
const NETWORK = "kdev-wf";
const REGISTRY = "kdev-wf-registry";
const SKIP_DAEMON_RESTART = process.env["KIND_DEV_E2E_NO_DAEMON_RESTART"] === "1";

/** One upstream: its real host, the repository pods name there, its stand-in and its cache. */
interface Upstream {
  readonly host: string;
  readonly repo: string;
  readonly slug: string;
  readonly standIn: string;
  readonly cache: string;
  standInPort: number;
  cachePort: number;
}
const UPSTREAMS: Upstream[] = [
  ["docker.io", "library/wf-hub"],
  ["ghcr.io", "wf-team/wf-ghcr"],
  ["quay.io", "wf-team/wf-quay"],
  ["registry.k8s.io", "wf-k8s"],
].map(([host = "", repo = ""]) => {
  const slug = host.replaceAll(".", "-");
  return {
    host,
    repo,
    slug,
    standIn: `kdev-wf-up-${slug}`,
    cache: `kdev-wf-cache-${slug}`,
    standInPort: 0,
    cachePort: 0,
  };
});

let registryPort: number;
let backend: string;
let dev: Stack;
let test: Stack | undefined;
let devKube: Kube;
let testKube: Kube;

function catalog(port: number): string[] {
  const out = run("curl", ["-fsS", `http://127.0.0.1:${port}/v2/_catalog`]);
  return (JSON.parse(out) as { repositories: string[] }).repositories;
}

function devNodes(): string[] {
  return [`${DEV.cluster}-control-plane`, `${DEV.cluster}-worker`];
}

function containerRunning(name: string): boolean {
  return tryRun("docker", ["inspect", "-f", "{{.State.Running}}", name]).out.trim() === "true";
}

function diagnostics(): string {
  const parts = [devKube?.diagnostics() ?? ""];
  if (test !== undefined) {
    parts.push(`=== cluster ${TEST.cluster}\n${testKube.diagnostics()}`);
  }
  for (const c of [REGISTRY, ...UPSTREAMS.map((u) => u.cache)]) {
    parts.push(`--- ${c} logs\n${tryRun("docker", ["logs", "--tail", "30", c]).out}`);
  }
  return parts.join("\n");
}

const step = e2eStep("workflows", diagnostics);

function settings(cluster: string, workers: number, retainOnDestroy: boolean): DevStackSettings {
  return {
    clusterName: cluster,
    workers,
    nodeImage: NODE_IMAGE,
    networkName: NETWORK,
    registryName: REGISTRY,
    registryPort,
    retainOnDestroy,
    caches: UPSTREAMS.map((u) => ({
      upstreamHost: u.host,
      remoteUrl: `http://${u.standIn}:5000`,
      containerName: u.cache,
      hostPort: u.cachePort,
    })),
  };
}

/** `pulumi up`; writes the stack's kubeconfig (a secret output) for kubectl. */
async function up(stack: Stack, kube: Kube): Promise<void> {
  const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
  expect(result.summary.result).toBe("succeeded");
  const kubeconfig = (await stack.outputs())["kubeconfig"];
  expect(kubeconfig?.secret).toBe(true);
  writeFileSync(kube.kubeconfigFile, String(kubeconfig?.value), { mode: 0o600 });
}

function upstreamPod(u: Upstream): string {
  return podManifest(`up-${u.slug}`, `${u.host}/${u.repo}:1`, ["sleep", "3600"]);
}

function cleanup(): void {
  for (const c of [DEV.cluster, TEST.cluster]) {
    tryRun("kind", ["delete", "cluster", "--name", c]);
  }
  for (const c of [REGISTRY, ...UPSTREAMS.flatMap((u) => [u.cache, u.standIn])]) {
    tryRun("docker", ["rm", "-f", "-v", c]);
  }
  for (const c of [REGISTRY, ...UPSTREAMS.map((u) => u.cache)]) {
    tryRun("docker", ["volume", "rm", `${c}-data`]);
  }
  tryRun("docker", ["network", "rm", NETWORK]);
}

describe("workflows: Tilt, in-cluster builds, four upstreams, two clusters, faults", () => {
  beforeAll(async () => {
    requireE2eBed(NODE_IMAGE);
    for (const tool of ["tilt", "crane"]) {
      if (tryRun("sh", ["-c", `test -x "${BED_BIN}/${tool}"`]).ok === false) {
        throw new Error(`${tool} is not in ${BED_BIN}: run 'npm run testbed:e2e' first`);
      }
    }
    if (!tryRun("docker", ["image", "inspect", CRANE_IMAGE]).ok) {
      throw new Error(`${CRANE_IMAGE} is missing: run 'npm run testbed:e2e' first`);
    }
    cleanup();
    registryPort = await freePort();
    for (const u of UPSTREAMS) {
      u.standInPort = await freePort();
      u.cachePort = await freePort();
    }
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-wf-"));
    devKube = new Kube(path.join(backend, "dev.kubeconfig"));
    testKube = new Kube(path.join(backend, "test.kubeconfig"));

    // Each upstream: a plain registry holding one image, named as on the real host. The image
    // is one flattened layer of its own (busybox, crane, its marker): no other image on the
    // nodes shares a blob with it, so a node needs every blob from that upstream's cache.
    run("docker", ["network", "create", NETWORK]);
    for (const u of UPSTREAMS) {
      await startRegistryStandIn(u.standIn, NETWORK, u.standInPort, { restartAlways: true });
      const ref = `127.0.0.1:${u.standInPort}/${u.repo}:1`;
      const built = `kdev-wf-build-${u.slug}`;
      run("docker", ["build", "-q", "-t", built, "-"], {
        input: `FROM ${CRANE_IMAGE}\nRUN echo ${u.host} > /marker\n`,
      });
      const container = run("docker", ["create", built]).trim();
      run("sh", [
        "-c",
        'docker export "$1" | docker import --change "ENV PATH=/usr/local/bin:/bin" - "$2"',
        "sh",
        container,
        ref,
      ]);
      run("docker", ["rm", container]);
      run("docker", ["push", ref]);
      run("docker", ["image", "rm", ref, built]);
    }
    dev = await devStack(DEV.stack, backend, settings(DEV.cluster, 1, true));
  }, 600_000);

  afterAll(async () => {
    for (const [stack, name] of [
      [test, TEST.stack],
      [dev, DEV.stack],
    ] as const) {
      if (stack !== undefined) {
        await stack.destroy().catch(() => undefined);
        await stack.workspace.removeStack(name).catch(() => undefined);
      }
      rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${name}.yaml`), { force: true });
    }
    cleanup();
    if (backend) {
      rmSync(backend, { recursive: true, force: true });
    }
  }, 900_000);

  step("1. pulumi up (dev): registry, four caches, two nodes Ready", async () => {
    await up(dev, devKube);
    devKube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
    for (const u of UPSTREAMS) {
      expect(containerRunning(u.cache)).toBe(true);
    }
  });

  step("2. Tilt: `tilt ci` finds the registry itself, pushes there, and the pod runs", async () => {
    const dir = mkdtempSync(path.join(backend, "tilt-"));
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${CRANE_IMAGE}\nRUN echo tilt > /marker\n`);
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
    expect(image).toMatch(new RegExp(`^localhost:${registryPort}/tilt-hello:tilt-[0-9a-f]+$`));
    expect(catalog(registryPort)).toContain("tilt-hello");
    await devKube.waitOnNodes("app=tilt-hello", [
      devKube
        .kubectl("get", "pods", "-l", "app=tilt-hello", "-o", "jsonpath={.items[0].spec.nodeName}")
        .trim(),
    ]);
  });

  step(
    "3. in-cluster build: a pod pushes to hostFromClusterNetwork; pods run it by both names",
    async () => {
      // The builder's own image reaches the cluster through the registry, as a team's would.
      const craneRef = `localhost:${registryPort}/tools/crane:v0.22.1`;
      run("docker", ["tag", CRANE_IMAGE, craneRef]);
      run("docker", ["push", craneRef]);
      const hosting = parseYaml(
        devKube.kubectl(
          "get",
          "configmap",
          "-n",
          LOCAL_REGISTRY_HOSTING.namespace,
          LOCAL_REGISTRY_HOSTING.name,
          "-o",
          "jsonpath={.data.localRegistryHosting\\.v1}",
        ),
      ) as { hostFromClusterNetwork: string };
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
      expect(catalog(registryPort)).toContain("inpod/hello");

      devKube.apply(
        daemonSetManifest("inpod-cluster-name", `${inCluster}/inpod/hello:1`, ["sleep", "3600"]),
      );
      devKube.apply(
        daemonSetManifest("inpod-localhost", `localhost:${registryPort}/inpod/hello:1`, [
          "sleep",
          "3600",
        ]),
      );
      await devKube.waitOnNodes("app=inpod-cluster-name", devNodes());
      await devKube.waitOnNodes("app=inpod-localhost", devNodes());
      for (const app of ["inpod-cluster-name", "inpod-localhost"]) {
        const pod = devKube.runningPods(`app=${app}`)[0]?.name ?? "";
        expect(devKube.kubectl("exec", pod, "--", "cat", "/marker")).toBe("built-in-cluster\n");
      }
    },
  );

  step(
    "4. four upstreams: pods pull by the real host names, each through its own cache",
    async () => {
      for (const u of UPSTREAMS) {
        devKube.apply(upstreamPod(u));
      }
      for (const u of UPSTREAMS) {
        await devKube.waitPhase(`up-${u.slug}`, "Running");
        expect(devKube.kubectl("exec", `up-${u.slug}`, "--", "cat", "/marker")).toBe(`${u.host}\n`);
      }
      for (const u of UPSTREAMS) {
        expect({ cache: u.cache, catalog: catalog(u.cachePort) }).toEqual({
          cache: u.cache,
          catalog: [u.repo],
        });
      }
    },
  );

  step(
    "5. Docker restarted under the environment: everything serves again, nothing lost",
    async () => {
      if (SKIP_DAEMON_RESTART) {
        console.log("[workflows] KIND_DEV_E2E_NO_DAEMON_RESTART=1: Docker restart skipped");
        return;
      }
      const before = catalog(registryPort);
      run("bash", [path.join(REPO_DIR, "test/bed/docker.sh"), "--restart-daemon"]);
      // The registry and caches run with --restart always; kind's nodes with on-failure:1.
      await waitFor(
        "the registry answering again",
        120_000,
        () => tryRun("curl", ["-fsS", `http://127.0.0.1:${registryPort}/v2/`]).ok,
      );
      for (const u of UPSTREAMS) {
        await waitFor(
          `${u.cache} answering again`,
          120_000,
          () => tryRun("curl", ["-fsS", `http://127.0.0.1:${u.cachePort}/v2/`]).ok,
        );
      }
      await waitFor(
        "the dev cluster's API server",
        300_000,
        () => devKube.tryKubectl("get", "--raw", "/readyz").ok,
      );
      devKube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
      // The next pulumi up converges (it must not fail or recreate anything that came back).
      await up(dev, devKube);
      expect(catalog(registryPort)).toEqual(before);
      for (const u of UPSTREAMS) {
        expect(catalog(u.cachePort)).toEqual([u.repo]);
      }
      // A fresh pull of a pushed image on the worker.
      devKube.apply(
        podManifest(
          "after-daemon-restart",
          `localhost:${registryPort}/inpod/hello:1`,
          ["sleep", "3600"],
          { node: `${DEV.cluster}-worker`, pullAlways: true },
        ),
      );
      await devKube.waitPhase("after-daemon-restart", "Running");
    },
  );

  step(
    "6. with every upstream stopped, a second stack (cluster test) sharing registry and caches runs everything",
    async () => {
      for (const u of UPSTREAMS) {
        run("docker", ["stop", u.standIn]);
      }
      const started = UPSTREAMS.map((u) =>
        run("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", u.cache]),
      );
      test = await devStack(TEST.stack, backend, settings(TEST.cluster, 0, false));
      await up(test, testKube);
      // Adopted as they were: a cache could not start again without its upstream.
      expect(
        UPSTREAMS.map((u) =>
          run("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", u.cache]),
        ),
      ).toEqual(started);
      testKube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
      for (const u of UPSTREAMS) {
        testKube.apply(upstreamPod(u));
      }
      testKube.apply(podManifest("inpod", `${REGISTRY}:5000/inpod/hello:1`, ["sleep", "3600"]));
      for (const u of UPSTREAMS) {
        await testKube.waitPhase(`up-${u.slug}`, "Running");
      }
      await testKube.waitPhase("inpod", "Running");
      // dev works alongside: a fresh pull there too.
      devKube.apply(
        podManifest("dev-alongside", `localhost:${registryPort}/inpod/hello:1`, ["sleep", "3600"], {
          pullAlways: true,
        }),
      );
      await devKube.waitPhase("dev-alongside", "Running");
    },
  );

  step(
    "7. destroying test (retainOnDestroy: false) keeps what dev uses, says why; dev keeps working",
    async () => {
      let output = "";
      await test?.destroy({ onOutput: (o) => (output += o) });
      process.stdout.write(output);
      for (const c of [REGISTRY, ...UPSTREAMS.map((u) => u.cache)]) {
        expect(output).toContain(
          `kept ${c} and its volume ${c}-data although retainOnDestroy is false: kind cluster(s) ${DEV.cluster} still pull through it.`,
        );
        expect(containerRunning(c)).toBe(true);
      }
      // The test made the network for its upstream stand-ins: not the stack's to remove.
      expect(output).toContain(
        `kept docker network ${NETWORK}: pulumi-kind-dev did not create it (kind or another tool did, or an earlier version of this package)`,
      );
      expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(TEST.cluster);
      devKube.apply(
        podManifest(
          "after-test-destroyed",
          `localhost:${registryPort}/inpod/hello:1`,
          ["sleep", "3600"],
          { node: `${DEV.cluster}-worker`, pullAlways: true },
        ),
      );
      await devKube.waitPhase("after-test-destroyed", "Running");
      // The upstreams are back for the next step's images.
      for (const u of UPSTREAMS) {
        run("docker", ["start", u.standIn]);
      }
    },
  );

  step(
    "8. pulumi up interrupted (SIGINT) during cluster creation, run again: it converges",
    async () => {
      const env = {
        ...TOOLS_ENV,
        ...pulumiEnv(backend, `${WRAPPER_DIR}:`),
      } as NodeJS.ProcessEnv;
      const child = spawn(
        "pulumi",
        ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", TEST.stack],
        { cwd: REPO_DIR, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number>((resolve) =>
        child.on("close", (code, signal) => resolve(code ?? (signal === null ? 1 : 128))),
      );
      // kind has started the node container: the cluster's create is in flight.
      await waitFor(
        "kind creating the test cluster's node",
        300_000,
        () => tryRun("docker", ["inspect", `${TEST.cluster}-control-plane`]).ok,
      );
      child.kill("SIGINT");
      const code = await exited;
      console.log(`[workflows] interrupted pulumi up (exit ${code}):\n${output.slice(-3000)}`);
      // Run again: no manual step.
      await up(test as Stack, testKube);
      testKube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
      testKube.apply(upstreamPod(UPSTREAMS[0] as Upstream));
      await testKube.waitPhase(`up-${UPSTREAMS[0]?.slug}`, "Running");
    },
  );
});
