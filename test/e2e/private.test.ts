/**
 * A private upstream on the real engine and a real kind cluster (the dev stack, one node): an
 * upstream that requires a password (distribution with htpasswd) standing in for ghcr.io, its
 * login in the host's Docker configuration through a credential helper
 * (test/support/credential-helper, the docker-credential-* protocol, named by `credHelpers`).
 *
 * 1. The helper not on PATH: `pulumi up` fails with the message naming it, before any command
 *    or container exists.
 * 2. With it: `pulumi up`; a pod naming `ghcr.io/acme/app:1`, without imagePullSecrets, runs,
 *    pulled through the cache. The password is in no stack file, no output of `pulumi up` and
 *    not in plain text in `pulumi stack export`.
 * 3. The cache without the login (`credentialsFromDocker` off): a pod naming another private
 *    image does not start, and the doctor fails naming the cache and the login to make.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../components/doctor/doctor";
import {
  BED_BIN,
  devStack,
  freePort,
  REPO_DIR,
  requireE2eBed,
  run,
  tryRun,
  waitFor,
} from "../support/bed";
import { Kube } from "../support/kube";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const RUN = `kdev-priv-${process.pid}`;
const CLUSTER = "kdev-priv";
const NETWORK = "kdev-priv";
const REGISTRY = "kdev-priv-registry";
const CACHE = "kdev-priv-cache-ghcr-io";
const UPSTREAM = "kdev-priv-upstream";
const UPSTREAM_HOST = `${UPSTREAM}:5000`;
const PASSWORD = "kdev-priv-Pat-7f3e9a";
const HELPER_DIR = path.join(REPO_DIR, "test/support/credential-helper");

let dir: string;
let kubeconfigFile: string;
let stack: Stack;
let output = "";

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", CLUSTER]);
  for (const c of [REGISTRY, CACHE, UPSTREAM]) {
    tryRun("docker", ["rm", "-f", "-v", c]);
  }
  for (const v of [`${REGISTRY}-data`, `${CACHE}-data`, `${UPSTREAM}-data`]) {
    tryRun("docker", ["volume", "rm", v]);
  }
  tryRun("docker", ["network", "rm", NETWORK]);
}

function settings(credentialsFromDocker: boolean, registryPort: number) {
  return {
    clusterName: CLUSTER,
    workers: 0,
    nodeImage: NODE_IMAGE,
    networkName: NETWORK,
    registryName: REGISTRY,
    registryPort,
    retainOnDestroy: false,
    caches: [
      {
        upstreamHost: "ghcr.io",
        remoteUrl: `http://${UPSTREAM_HOST}`,
        containerName: CACHE,
        credentialsFromDocker,
      },
    ],
  };
}

async function up(): Promise<void> {
  await stack.up({ onOutput: (o) => (output += o) });
  const kubeconfig = (await stack.outputs())["kubeconfig"];
  writeFileSync(kubeconfigFile, String(kubeconfig?.value), { mode: 0o600 });
}

function pod(name: string, image: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
spec:
  tolerations:
    - operator: Exists
  containers:
    - name: main
      image: ${image}
      command: ["sleep", "infinity"]
`;
}

function phaseAndReason(name: string): string {
  return tryRun("kubectl", [
    "--kubeconfig",
    kubeconfigFile,
    "get",
    "pod",
    name,
    "-o",
    "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}",
  ]).out;
}

describe("a private upstream: the login from the host's Docker configuration", () => {
  let registryPort: number;

  beforeAll(async () => {
    requireE2eBed(NODE_IMAGE);
    cleanup();
    registryPort = await freePort();
    const upstreamPort = await freePort();
    dir = mkdtempSync(path.join(os.tmpdir(), "kdev-priv-e2e-"));
    kubeconfigFile = path.join(dir, "kubeconfig");
    // The upstream: filled while open, then started again on its volume with a password.
    run("docker", ["network", "create", NETWORK]);
    const start = (extra: string[]) => {
      tryRun("docker", ["rm", "-f", UPSTREAM]);
      run("docker", [
        "run",
        "-d",
        "--name",
        UPSTREAM,
        "--network",
        NETWORK,
        "-p",
        `127.0.0.1:${upstreamPort}:5000`,
        "-v",
        `${UPSTREAM}-data:/var/lib/registry`,
        ...extra,
        "registry:3",
      ]);
    };
    start([]);
    await waitFor(
      "the upstream",
      60_000,
      () => tryRun("curl", ["-fsS", `http://127.0.0.1:${upstreamPort}/v2/`]).ok,
    );
    for (const repo of ["acme/app", "acme/other"]) {
      const ref = `127.0.0.1:${upstreamPort}/${repo}:1`;
      run("docker", ["build", "-q", "-t", ref, "-"], {
        input: `FROM kind-dev-bed/debian:bookworm\nRUN echo ${repo} > /marker\n`,
      });
      run("docker", ["push", ref]);
      tryRun("docker", ["image", "rm", ref]);
    }
    writeFileSync(path.join(dir, "htpasswd"), `ci:${bcrypt.hashSync(PASSWORD, 10)}\n`);
    start([
      "-v",
      `${path.join(dir, "htpasswd")}:/auth/htpasswd:ro`,
      "-e",
      "REGISTRY_AUTH=htpasswd",
      "-e",
      "REGISTRY_AUTH_HTPASSWD_REALM=kdev-priv",
      "-e",
      "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
    ]);
    // The host's Docker configuration: the login is kept by the helper, the file names it.
    writeFileSync(
      path.join(dir, "config.json"),
      JSON.stringify({ credHelpers: { [UPSTREAM_HOST]: "kdev-test" } }),
    );
    writeFileSync(
      path.join(dir, "store.json"),
      JSON.stringify({ [UPSTREAM_HOST]: { Username: "ci", Secret: PASSWORD } }),
    );
    stack = await devStack(RUN, dir, settings(true, registryPort));
    stack.workspace.envVars["DOCKER_CONFIG"] = dir;
    stack.workspace.envVars["KDEV_CRED_FILE"] = path.join(dir, "store.json");
  }, 600_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(RUN).catch(() => undefined);
    }
    rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${RUN}.yaml`), { force: true });
    cleanup();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it("1. the helper not on PATH: pulumi up fails naming it, nothing made", async () => {
    const error = await stack.up().then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain(
      `KindDevEnvironment: invalid caches[0].credentialsFromDocker true: ${dir}/config.json keeps the login for ${UPSTREAM_HOST} in the credential helper docker-credential-kdev-test (credHelpers["${UPSTREAM_HOST}"]), which is not on PATH; install it or put its directory on PATH`,
    );
    const resources = (await stack.exportStack()).deployment.resources ?? [];
    expect(resources.filter((r: { type: string }) => r.type.startsWith("command:"))).toEqual([]);
    expect(tryRun("docker", ["container", "inspect", CACHE]).ok).toBe(false);
    expect(tryRun("docker", ["container", "inspect", REGISTRY]).ok).toBe(false);
  }, 600_000);

  it("2. with the helper: a pod pulls a private image by its upstream name; the password stays secret", async () => {
    stack.workspace.envVars["PATH"] = `${HELPER_DIR}:${stack.workspace.envVars["PATH"] ?? ""}`;
    await up();
    // A new cluster admits pods once its controller has made the default service account.
    await waitFor(
      "the default service account",
      120_000,
      () =>
        tryRun("kubectl", ["--kubeconfig", kubeconfigFile, "get", "serviceaccount", "default"]).ok,
    );
    new Kube(kubeconfigFile).apply(pod("private", "ghcr.io/acme/app:1"));
    await waitFor("the private pod running", 600_000, () =>
      phaseAndReason("private").startsWith("Running"),
    );
    const catalog = run("docker", [
      "exec",
      `${CLUSTER}-control-plane`,
      "curl",
      "-fsS",
      `http://${CACHE}:5000/v2/_catalog`,
    ]);
    expect(JSON.parse(catalog)).toEqual({ repositories: ["acme/app"] });
    // The CLI's own `pulumi stack export` (the Automation API's exportStack shows secrets).
    const exported = run("pulumi", ["stack", "export", "--stack", RUN, "--cwd", REPO_DIR], {
      env: stack.workspace.envVars,
    });
    expect(exported.includes("REGISTRY_PROXY_PASSWORD")).toBe(false);
    expect(exported.includes(PASSWORD)).toBe(false);
    expect(exported).toContain("ciphertext");
    const stackFile = readFileSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${RUN}.yaml`), "utf8");
    expect(stackFile.includes(PASSWORD)).toBe(false);
    expect(output.includes(PASSWORD)).toBe(false);
  }, 1_800_000);

  it("3. the cache without the login: the pod does not start, the doctor names the cache and the login", async () => {
    await stack.setConfig("kind-dev:caches", {
      value: JSON.stringify(settings(false, registryPort).caches),
    });
    await up();
    new Kube(kubeconfigFile).apply(pod("without-login", "ghcr.io/acme/other:1"));
    await waitFor("the pull to fail", 300_000, () =>
      /ErrImagePull|ImagePullBackOff/.test(phaseAndReason("without-login")),
    );
    const saved = process.env["PATH"];
    process.env["PATH"] = `${BED_BIN}:${saved ?? ""}`;
    try {
      const report = await runDoctor({ cluster: CLUSTER, kubeconfig: kubeconfigFile });
      const check = report.results.find((r) => r.id === `cache.upstream@${CACHE}`);
      expect(check).toMatchObject({
        status: "fail",
        detail: `${CACHE} has no login for http://${UPSTREAM_HOST}, which answers 401 and asks for one: pulls of ghcr.io images through it fail`,
        remedy: `docker login ${UPSTREAM_HOST}, then give the cache for ghcr.io credentialsFromDocker: true (or username and password) and run pulumi up`,
      });
    } finally {
      process.env["PATH"] = saved;
    }
  }, 1_800_000);
});
