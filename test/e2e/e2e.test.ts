/**
 * The whole user story with the real Pulumi engine, a real kind cluster built from the test
 * bed's node image, the dev stack, and a local registry standing in for Docker Hub. Each step
 * prints its duration; a failed step prints what a user would look at (pods and events, the
 * nodes' hosts.toml, registry and cache logs).
 *
 * Needs `npm run testbed:e2e` (Docker engine, images, Pulumi CLI and plugins, kind, node image).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { parse as parseYaml } from "yaml";
import { LOCAL_REGISTRY_HOSTING } from "../../components/render/localRegistryHosting";
import {
  devStack,
  freePort,
  REPO_DIR,
  requireE2eBed,
  run,
  startRegistryStandIn,
  tryRun,
  waitFor,
} from "../support/bed";
import { Kube } from "../support/kube";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const BASE_IMAGE = "kind-dev-bed/debian:bookworm";
const RUN = `e2e-${process.pid}`;
const CLUSTER = "kdev-e2e";
const NETWORK = "kdev-e2e";
const REGISTRY = "kdev-e2e-registry";
const CACHE = "kdev-e2e-cache-docker-io";
const UPSTREAM = "kdev-e2e-upstream";
const HUB_IMAGE = "library/e2e-hello";
/** The cache's TTL in the stack config; distribution v3 (registry:3) honours it. */
const CACHE_TTL = "72h";

let registryPort: number;
let cachePort: number;
let upstreamPort: number;
let backend: string;
let kubeconfigFile: string;
let stack: Stack;

function kubectl(...args: string[]): string {
  return new Kube(kubeconfigFile).kubectl(...args);
}

function catalog(port: number): string[] {
  const out = run("curl", ["-fsS", `http://127.0.0.1:${port}/v2/_catalog`]);
  return (JSON.parse(out) as { repositories: string[] }).repositories;
}

function nodes(): string[] {
  return [`${CLUSTER}-control-plane`, `${CLUSTER}-worker`];
}

/** What a user would look at when a pull or a pod fails. */
function diagnostics(): string {
  const parts: string[] = [];
  const add = (title: string, file: string, args: string[]) =>
    parts.push(`--- ${title}\n${tryRun(file, args).out}`);
  if (kubeconfigFile && existsSync(kubeconfigFile)) {
    add("pods", "kubectl", ["--kubeconfig", kubeconfigFile, "get", "pods", "-A", "-o", "wide"]);
    add("events", "kubectl", ["--kubeconfig", kubeconfigFile, "get", "events", "-A"]);
    add("nodes", "kubectl", ["--kubeconfig", kubeconfigFile, "get", "nodes", "-o", "wide"]);
  }
  for (const node of nodes()) {
    add(`${node} hosts.toml`, "docker", [
      "exec",
      node,
      "sh",
      "-c",
      'for f in /etc/containerd/certs.d/*/hosts.toml; do echo "## $f"; cat "$f"; done',
    ]);
  }
  add("registry logs", "docker", ["logs", "--tail", "50", REGISTRY]);
  add("cache logs", "docker", ["logs", "--tail", "50", CACHE]);
  return parts.join("\n");
}

/** Prints the step's duration, and diagnostics if it fails. */
function step(name: string, body: () => Promise<void>, timeoutMs = 1_800_000): void {
  it(
    name,
    async () => {
      onTestFailed(() => {
        console.log(`[e2e] diagnostics after failed step "${name}":\n${diagnostics()}`);
      });
      const start = Date.now();
      try {
        await body();
      } finally {
        console.log(`[e2e] ${name}: ${((Date.now() - start) / 1000).toFixed(1)}s`);
      }
    },
    timeoutMs,
  );
}

async function up(): Promise<Awaited<ReturnType<Stack["up"]>>> {
  const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
  const outputs = await stack.outputs();
  const kubeconfig = outputs["kubeconfig"];
  expect(kubeconfig?.secret).toBe(true);
  writeFileSync(kubeconfigFile, String(kubeconfig?.value), { mode: 0o600 });
  return result;
}

const WORKLOADS = (port: number) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: app
  namespace: default
spec:
  selector:
    matchLabels: { app: app }
  template:
    metadata:
      labels: { app: app }
    spec:
      tolerations:
        - operator: Exists
      containers:
        - name: app
          image: localhost:${port}/app:e2e
          imagePullPolicy: Always
          command: ["sleep", "infinity"]
---
apiVersion: v1
kind: Pod
metadata:
  name: hub
  namespace: default
spec:
  containers:
    - name: hub
      image: docker.io/${HUB_IMAGE}:1
      command: ["sleep", "infinity"]
`;

function apply(manifest: string): void {
  new Kube(kubeconfigFile).apply(manifest);
}

async function workloadsRunning(): Promise<void> {
  await waitFor("the app DaemonSet running on both nodes", 600_000, () => {
    const pods = new Kube(kubeconfigFile).runningPods("app=app");
    return new Set(pods.map((p) => p.node)).size === nodes().length;
  });
  await waitFor("the Docker Hub pod running", 600_000, () =>
    tryRun("kubectl", [
      "--kubeconfig",
      kubeconfigFile,
      "get",
      "pod",
      "hub",
      "-o",
      "jsonpath={.status.phase}",
    ]).out.startsWith("Running"),
  );
}

function containerRunning(name: string): boolean {
  return tryRun("docker", ["inspect", "-f", "{{.State.Running}}", name]).out.trim() === "true";
}

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", CLUSTER]);
  // -v: the upstream stand-in keeps its data in an anonymous volume.
  for (const c of [REGISTRY, CACHE, UPSTREAM]) {
    tryRun("docker", ["rm", "-f", "-v", c]);
  }
  for (const v of [`${REGISTRY}-data`, `${CACHE}-data`]) {
    tryRun("docker", ["volume", "rm", v]);
  }
  tryRun("docker", ["network", "rm", NETWORK]);
}

describe("end to end: pulumi up, workloads, destroy, warm recreate, faults", () => {
  beforeAll(async () => {
    requireE2eBed(NODE_IMAGE);
    cleanup();
    [registryPort, cachePort, upstreamPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    backend = mkdtempSync(path.join(os.tmpdir(), "kind-dev-e2e-"));
    kubeconfigFile = path.join(backend, "kubeconfig");

    // The stand-in for Docker Hub: a plain registry on the network, holding library/e2e-hello:1.
    run("docker", ["network", "create", NETWORK]);
    await startRegistryStandIn(UPSTREAM, NETWORK, upstreamPort);
    const hub = `127.0.0.1:${upstreamPort}/${HUB_IMAGE}:1`;
    run("docker", ["build", "-q", "-t", hub, "-"], {
      input: `FROM ${BASE_IMAGE}\nRUN echo hub > /marker\n`,
    });
    run("docker", ["push", hub]);

    stack = await devStack(RUN, backend, {
      clusterName: CLUSTER,
      workers: 1,
      nodeImage: NODE_IMAGE,
      networkName: NETWORK,
      registryName: REGISTRY,
      registryPort,
      caches: [
        {
          upstreamHost: "docker.io",
          remoteUrl: `http://${UPSTREAM}:5000`,
          containerName: CACHE,
          hostPort: cachePort,
          ttl: CACHE_TTL,
        },
      ],
    });
  }, 600_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(RUN).catch(() => undefined);
    }
    rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${RUN}.yaml`), { force: true });
    cleanup();
    if (backend) {
      rmSync(backend, { recursive: true, force: true });
    }
  }, 600_000);

  step("1. pulumi up creates the environment; all nodes Ready", async () => {
    const result = await up();
    expect(result.summary.result).toBe("succeeded");
    kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
    expect(kubectl("get", "nodes", "-o", "name").trim().split("\n").sort()).toEqual(
      nodes().map((n) => `node/${n}`),
    );
  });

  step(
    "2-3. a pushed image runs on both nodes; a Docker Hub image comes through the cache",
    async () => {
      const app = `localhost:${registryPort}/app:e2e`;
      run("docker", ["build", "-q", "-t", app, "-"], {
        input: `FROM ${BASE_IMAGE}\nRUN echo app > /marker\n`,
      });
      run("docker", ["push", app]);
      apply(WORKLOADS(registryPort));
      await workloadsRunning();
      expect(catalog(cachePort)).toContain(HUB_IMAGE);
    },
  );

  step("3b. a pod naming the registry's in-cluster name <registryName>:5000 runs", async () => {
    apply(`apiVersion: v1
kind: Pod
metadata:
  name: in-cluster-name
  namespace: default
spec:
  containers:
    - name: app
      image: ${REGISTRY}:5000/app:e2e
      imagePullPolicy: Always
      command: ["sleep", "infinity"]
`);
    await waitFor(`the pod pulling ${REGISTRY}:5000/app:e2e running`, 300_000, () =>
      tryRun("kubectl", [
        "--kubeconfig",
        kubeconfigFile,
        "get",
        "pod",
        "in-cluster-name",
        "-o",
        "jsonpath={.status.phase}",
      ]).out.startsWith("Running"),
    );
    for (const node of nodes()) {
      expect(
        run("docker", ["exec", node, "cat", `/etc/containerd/certs.d/${REGISTRY}:5000/hosts.toml`]),
      ).toBe(`[host."http://${REGISTRY}:5000"]\n`);
    }
  });

  step("3c. every kubelet pulls in parallel, at most 5 images at once", async () => {
    for (const node of nodes()) {
      const config = run("docker", ["exec", node, "cat", "/var/lib/kubelet/config.yaml"]);
      expect(config.split("\n")).toEqual(
        expect.arrayContaining(["serializeImagePulls: false", "maxParallelImagePulls: 5"]),
      );
    }
  });

  step("3d. the cache runs registry:3 with the configured TTL", async () => {
    const [image = "", env = ""] = run("docker", [
      "inspect",
      "-f",
      "{{.Config.Image}}|{{json .Config.Env}}",
      CACHE,
    ]).split("|");
    expect(image).toBe("registry:3");
    expect(JSON.parse(env) as string[]).toContain(`REGISTRY_PROXY_TTL=${CACHE_TTL}`);
    // registry:3 schedules every blob and manifest it cached in step 3 to expire after the TTL
    // (72h, logged a hair under it by the time the entry is written).
    const logs = tryRun("docker", ["logs", CACHE]).out;
    expect(logs).toMatch(
      /Adding new scheduler entry for library\/e2e-hello@sha256:\w+ with ttl=71h59m\d/,
    );
  });

  step("4. the ConfigMap holds the documented KEP-1755 content", async () => {
    // The documented example (docs/workflows.md), for this stack's registry name and port.
    const doc = readFileSync(path.join(REPO_DIR, "docs/workflows.md"), "utf8");
    const block = /localRegistryHosting\.v1: \|\n((?: {4}.*\n)+)/.exec(doc)?.[1];
    expect(block, "the KEP-1755 example in docs/workflows.md").toBeDefined();
    const expected = (block ?? "")
      .replace(/^ {4}/gm, "")
      .replaceAll("localhost:5001", `localhost:${registryPort}`)
      .replaceAll("kind-registry:5000", `${REGISTRY}:5000`);
    const data = kubectl(
      "get",
      "configmap",
      "-n",
      LOCAL_REGISTRY_HOSTING.namespace,
      LOCAL_REGISTRY_HOSTING.name,
      "-o",
      "jsonpath={.data.localRegistryHosting\\.v1}",
    );
    expect(data).toBe(expected);
  });

  step("4b. Tilt's own KEP-1755 reader finds the registry with no setting", async () => {
    // github.com/tilt-dev/localregistry-go, the code Tilt runs (test/bed/kep1755-reader.sh).
    const found = parseYaml(
      run("local-registry", ["get", "--kubeconfig", kubeconfigFile]),
    ) as unknown;
    expect(found).toEqual({
      host: `localhost:${registryPort}`,
      hostFromContainerRuntime: `localhost:${registryPort}`,
      hostFromClusterNetwork: `${REGISTRY}:5000`,
      help: "https://kind.sigs.k8s.io/docs/user/local-registry/",
    });
  });

  step("5. a second pulumi up changes nothing", async () => {
    const result = await up();
    const changes = Object.entries(result.summary.resourceChanges ?? {}).filter(
      ([op, n]) => op !== "same" && (n ?? 0) > 0,
    );
    expect(changes).toEqual([]);
  });

  step(
    "6. pulumi destroy removes the cluster and keeps registry and cache with content",
    async () => {
      await stack.destroy({ onOutput: (o) => process.stdout.write(o) });
      expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(CLUSTER);
      expect(containerRunning(REGISTRY)).toBe(true);
      expect(containerRunning(CACHE)).toBe(true);
      expect(catalog(registryPort)).toContain("app");
      expect(catalog(cachePort)).toContain(HUB_IMAGE);
    },
  );

  step(
    "7. with the upstream stopped, pulumi up builds a new cluster from warm caches",
    async () => {
      const cacheId = run("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", CACHE]);
      run("docker", ["stop", UPSTREAM]);
      await up();
      // Adopted as it was: not re-created, not restarted (it could not start without its upstream).
      expect(run("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", CACHE])).toBe(cacheId);
      kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
      apply(WORKLOADS(registryPort));
      await workloadsRunning();
    },
  );

  step("8a. a registry removed by hand comes back with its data on pulumi up", async () => {
    run("docker", ["rm", "-f", REGISTRY]);
    await up();
    expect(containerRunning(REGISTRY)).toBe(true);
    expect(catalog(registryPort)).toContain("app");
  });

  step("8b. after docker restart of a node, pulls through hosts.toml still work", async () => {
    const worker = `${CLUSTER}-worker`;
    run("docker", ["restart", worker]);
    kubectl("wait", "--for=condition=Ready", `node/${worker}`, "--timeout=300s");
    apply(`apiVersion: v1
kind: Pod
metadata:
  name: after-restart
  namespace: default
spec:
  nodeName: ${worker}
  containers:
    - name: app
      image: localhost:${registryPort}/app:e2e
      imagePullPolicy: Always
      command: ["sleep", "infinity"]
`);
    await waitFor("a fresh pull on the restarted node", 300_000, () =>
      tryRun("kubectl", [
        "--kubeconfig",
        kubeconfigFile,
        "get",
        "pod",
        "after-restart",
        "-o",
        "jsonpath={.status.phase}",
      ]).out.startsWith("Running"),
    );
  });
});
