/**
 * The whole user story with the real Pulumi engine, a real kind cluster built from the test
 * bed's node image, the dev stack, and a local registry standing in for Docker Hub. Each step
 * prints its duration; a failed step prints what a user would look at (pods and events, the
 * nodes' hosts.toml, registry and cache logs).
 *
 * Needs `npm run testbed:e2e` (Docker engine, images, Pulumi CLI and plugins, kind, node image).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { parse as parseYaml } from "yaml";
import { REPO_DIR, run } from "../support/bed";
import { daemonSetManifest, podManifest } from "../support/kube";
import {
  BASE_IMAGE,
  buildAndPush,
  catalog,
  containerRunning,
  DevEnvironment,
  type DevStack,
  expectPulledThrough,
  identity,
  manifestOf,
  podImageDigests,
  type PushedImage,
} from "../support/lifecycle";

const HUB_IMAGE = "library/e2e-hello";

const env = new DevEnvironment("e2e", "kdev-e2e", [{ host: "docker.io" }]);
const hub = env.upstream("docker.io");
const step = env.step;
let dev: DevStack;
let app: PushedImage;
let hubImage: PushedImage;

function apply(manifest: string): void {
  dev.kube.apply(manifest);
}

/** The app on every node and the Docker Hub pod: running, each the image that was pushed. */
async function workloadsRunning(): Promise<void> {
  apply(daemonSetManifest("app", `localhost:${env.registryPort}/app:e2e`, ["sleep", "infinity"]));
  apply(podManifest("hub", `docker.io/${HUB_IMAGE}:1`, ["sleep", "infinity"]));
  await dev.kube.waitOnNodes("app=app", dev.nodes(), 600_000);
  await dev.kube.waitPhase("hub", "Running", 600_000);
  expect(podImageDigests(dev.kube, "app=app")).toEqual(dev.nodes().map(() => app.digest));
  expect(podImageDigests(dev.kube, "app=hub")).toEqual([hubImage.digest]);
}

describe("end to end: pulumi up, workloads, destroy, warm recreate, faults", () => {
  beforeAll(async () => {
    await env.setUp();
    // The stand-in for Docker Hub holds library/e2e-hello:1, a layer no other image shares.
    hubImage = await buildAndPush(
      hub.standInPort,
      HUB_IMAGE,
      "1",
      `FROM ${BASE_IMAGE}\nRUN echo hub > /marker\n`,
      true,
    );
    dev = await env.stack(`e2e-${process.pid}`, "kdev-e2e");
  }, 600_000);

  afterAll(() => env.tearDown(), 600_000);

  step("1. pulumi up creates the environment; all nodes Ready", async () => {
    await dev.upReady();
  });

  step(
    "2-3. a pushed image runs on both nodes; a Docker Hub image comes through the cache",
    async () => {
      app = await buildAndPush(
        env.registryPort,
        "app",
        "e2e",
        `FROM ${BASE_IMAGE}\nRUN echo app > /marker\n`,
      );
      await workloadsRunning();
      expect(catalog(hub.cachePort)).toContain(HUB_IMAGE);
      expectPulledThrough(hub, HUB_IMAGE, hubImage);
    },
  );

  step("3c. every kubelet pulls in parallel, at most 5 images at once", async () => {
    for (const node of dev.nodes()) {
      const config = run("docker", ["exec", node, "cat", "/var/lib/kubelet/config.yaml"]);
      expect(config.split("\n")).toEqual(
        expect.arrayContaining(["serializeImagePulls: false", "maxParallelImagePulls: 5"]),
      );
    }
  });

  step("4. the ConfigMap holds the documented KEP-1755 content", async () => {
    // The documented example (docs/workflows.md), for this stack's registry name and port.
    const doc = readFileSync(path.join(REPO_DIR, "docs/workflows.md"), "utf8");
    const block = /localRegistryHosting\.v1: \|\n((?: {4}.*\n)+)/.exec(doc)?.[1];
    expect(block, "the KEP-1755 example in docs/workflows.md").toBeDefined();
    const expected = (block ?? "")
      .replace(/^ {4}/gm, "")
      .replaceAll("localhost:5001", `localhost:${env.registryPort}`)
      .replaceAll("kind-registry:5000", `${env.registry}:5000`);
    expect(dev.kube.registryHosting()).toBe(expected);
  });

  step("4b. Tilt's own KEP-1755 reader finds the registry with no setting", async () => {
    // github.com/tilt-dev/localregistry-go, the code Tilt runs (test/bed/kep1755-reader.sh).
    const found = parseYaml(
      run("local-registry", ["get", "--kubeconfig", dev.kube.kubeconfigFile]),
    ) as unknown;
    expect(found).toEqual({
      host: `localhost:${env.registryPort}`,
      hostFromContainerRuntime: `localhost:${env.registryPort}`,
      hostFromClusterNetwork: `${env.registry}:5000`,
      help: "https://kind.sigs.k8s.io/docs/user/local-registry/",
    });
  });

  step("5. a preview and a second pulumi up change nothing", async () => {
    await dev.expectNoChanges();
  });

  step(
    "6. pulumi destroy removes the cluster and keeps registry and cache with content",
    async () => {
      await dev.destroy();
      for (const c of env.kept()) {
        expect(containerRunning(c)).toBe(true);
      }
      expect((await manifestOf(env.registryPort, "app", "e2e")).digest).toBe(app.digest);
    },
  );

  step(
    "7. with the upstream stopped, pulumi up builds a new cluster from warm caches",
    async () => {
      const cacheId = identity(hub.cache);
      run("docker", ["stop", hub.standIn]);
      await dev.upReady();
      // Adopted as it was: not re-created, not restarted (it could not start without its upstream).
      expect(identity(hub.cache)).toBe(cacheId);
      // The kept registry and cache serve the very images pushed before the destroy.
      await workloadsRunning();
    },
  );

  step("8. after docker restart of a node, pulls through hosts.toml still work", async () => {
    const worker = `${dev.cluster}-worker`;
    run("docker", ["restart", worker]);
    dev.kube.kubectl("wait", "--for=condition=Ready", `node/${worker}`, "--timeout=300s");
    const image = `localhost:${env.registryPort}/app:e2e`;
    apply(
      podManifest("after-restart", image, ["sleep", "infinity"], {
        node: worker,
        pullAlways: true,
      }),
    );
    await dev.kube.waitPhase("after-restart", "Running");
    expect(podImageDigests(dev.kube, "app=after-restart")).toEqual([app.digest]);
  });
});
