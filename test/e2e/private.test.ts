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
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { runDoctor } from "../../components/doctor/doctor";
import { BED_BIN, REPO_DIR, run, tryRun, waitFor } from "../support/bed";
import { podManifest } from "../support/kube";
import { BASE_IMAGE, DevEnvironment, type DevStack } from "../support/lifecycle";

const CLUSTER = "kdev-priv";
const env = new DevEnvironment("private e2e", CLUSTER, [
  {
    host: "ghcr.io",
    standIn: "kdev-priv-upstream",
    startStandIn: false,
    publish: false,
    credentialsFromDocker: true,
  },
]);
const { registry: REGISTRY, step } = env;
const { cache: CACHE, standIn: UPSTREAM } = env.upstream("ghcr.io");
const UPSTREAM_HOST = `${UPSTREAM}:5000`;
const PASSWORD = "kdev-priv-Pat-7f3e9a";
const HELPER_DIR = path.join(REPO_DIR, "test/support/credential-helper");

let dev: DevStack;

/** A pod that runs `image` on the one node. */
function pod(name: string, image: string): string {
  return podManifest(name, image, ["sleep", "infinity"], { anyNode: true });
}

function phaseAndReason(name: string): string {
  const jsonpath = "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}";
  return dev.kube.tryKubectl("get", "pod", name, "-o", jsonpath).out;
}

describe("a private upstream: the login from the host's Docker configuration", () => {
  beforeAll(async () => {
    await env.setUp();
    const dir = env.backend;
    const port = env.upstream("ghcr.io").standInPort;
    // The upstream: filled while open, then started again on its volume with a password.
    const start = (extra: string[]) => {
      tryRun("docker", ["rm", "-f", UPSTREAM]);
      run("docker", [
        ...["run", "-d", "--name", UPSTREAM, "--network", env.network],
        ...["-p", `127.0.0.1:${port}:5000`, "-v", `${UPSTREAM}-data:/var/lib/registry`],
        ...extra,
        "registry:3",
      ]);
    };
    start([]);
    await waitFor(
      "the upstream",
      60_000,
      () => tryRun("curl", ["-fsS", `http://127.0.0.1:${port}/v2/`]).ok,
    );
    for (const repo of ["acme/app", "acme/other"]) {
      const ref = `127.0.0.1:${port}/${repo}:1`;
      run("docker", ["build", "-q", "-t", ref, "-"], {
        input: `FROM ${BASE_IMAGE}\nRUN echo ${repo} > /marker\n`,
      });
      run("docker", ["push", ref]);
      tryRun("docker", ["image", "rm", ref]);
    }
    writeFileSync(path.join(dir, "htpasswd"), `ci:${bcrypt.hashSync(PASSWORD, 10)}\n`);
    start([
      ...["-v", `${path.join(dir, "htpasswd")}:/auth/htpasswd:ro`, "-e", "REGISTRY_AUTH=htpasswd"],
      ...["-e", "REGISTRY_AUTH_HTPASSWD_REALM=kdev-priv"],
      ...["-e", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd"],
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
    dev = await env.stack(`kdev-priv-${process.pid}`, CLUSTER, {
      workers: 0,
      retainOnDestroy: false,
    });
    dev.stack.workspace.envVars["DOCKER_CONFIG"] = dir;
    dev.stack.workspace.envVars["KDEV_CRED_FILE"] = path.join(dir, "store.json");
  });

  afterAll(() => env.tearDown());

  step("1. the helper not on PATH: pulumi up fails naming it, nothing made", async () => {
    const error = await dev.stack.up().then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain(
      `KindDevEnvironment: invalid caches[0].credentialsFromDocker true: ${env.backend}/config.json keeps the login for ${UPSTREAM_HOST} in the credential helper docker-credential-kdev-test (credHelpers["${UPSTREAM_HOST}"]), which is not on PATH; install it or put its directory on PATH`,
    );
    const resources = (await dev.stack.exportStack()).deployment.resources ?? [];
    expect(resources.filter((r: { type: string }) => r.type.startsWith("command:"))).toEqual([]);
    expect(tryRun("docker", ["container", "inspect", CACHE]).ok).toBe(false);
    expect(tryRun("docker", ["container", "inspect", REGISTRY]).ok).toBe(false);
  });

  step(
    "2. with the helper: a pod pulls a private image by its upstream name; the password stays secret",
    async () => {
      const envVars = dev.stack.workspace.envVars;
      envVars["PATH"] = `${HELPER_DIR}:${envVars["PATH"] ?? ""}`;
      const { stdout } = await dev.up();
      // A new cluster admits pods once its controller has made the default service account.
      await waitFor(
        "the default service account",
        120_000,
        () => dev.kube.tryKubectl("get", "serviceaccount", "default").ok,
      );
      dev.kube.apply(pod("private", "ghcr.io/acme/app:1"));
      await waitFor("the private pod running", 600_000, () =>
        phaseAndReason("private").startsWith("Running"),
      );
      const catalog = run("docker", [
        ...["exec", `${CLUSTER}-control-plane`],
        ...["curl", "-fsS", `http://${CACHE}:5000/v2/_catalog`],
      ]);
      expect(JSON.parse(catalog)).toEqual({ repositories: ["acme/app"] });
      // The CLI's own `pulumi stack export` (the Automation API's exportStack shows secrets).
      const exported = run("pulumi", ["stack", "export", "--stack", dev.name, "--cwd", REPO_DIR], {
        env: envVars,
      });
      expect(exported.includes("REGISTRY_PROXY_PASSWORD")).toBe(false);
      expect(exported.includes(PASSWORD)).toBe(false);
      expect(exported).toContain("ciphertext");
      const stackFile = path.join(REPO_DIR, "stacks/dev", `Pulumi.${dev.name}.yaml`);
      expect(readFileSync(stackFile, "utf8").includes(PASSWORD)).toBe(false);
      expect(stdout.includes(PASSWORD)).toBe(false);
    },
  );

  step(
    "3. the cache without the login: the pod does not start, the doctor names the cache and the login",
    async () => {
      const caches = env.caches().map((c) => ({ ...c, credentialsFromDocker: false }));
      await dev.stack.setConfig("kind-dev:caches", { value: JSON.stringify(caches) });
      await dev.up();
      dev.kube.apply(pod("without-login", "ghcr.io/acme/other:1"));
      await waitFor("the pull to fail", 300_000, () =>
        /ErrImagePull|ImagePullBackOff/.test(phaseAndReason("without-login")),
      );
      const saved = process.env["PATH"];
      process.env["PATH"] = `${BED_BIN}:${saved ?? ""}`;
      try {
        const report = await runDoctor({ cluster: CLUSTER, kubeconfig: dev.kube.kubeconfigFile });
        const check = report.results.find((r) => r.id === `cache.upstream@${CACHE}`);
        expect(check).toMatchObject({
          status: "fail",
          detail: `${CACHE} has no login for http://${UPSTREAM_HOST}, which answers 401 and asks for one: pulls of ghcr.io images through it fail`,
          remedy: `docker login ${UPSTREAM_HOST}, then give the cache for ghcr.io credentialsFromDocker: true (or username and password) and run pulumi up`,
        });
      } finally {
        process.env["PATH"] = saved;
      }
    },
  );
});
