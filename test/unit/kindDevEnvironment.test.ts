import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_HOSTS_ENVIRONMENT, KIND_CONFIG, KIND_CONFIG_ARGS } from "./fixtures";
import type { Script } from "../../components/scripts";
import { PROBE, scriptHarness, seed, stepText } from "./scripts/harness";

/** Every registration, and the options of every child of the component. */
const registrations: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
const options: {
  type: string;
  name: string;
  opts: pulumi.ResourceOptions;
  resource: pulumi.Resource;
}[] = [];
const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\n# fake\n";

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
      const commandOutputs =
        args.type === "command:local:Command" ? { stdout: "", stderr: "" } : {};
      return { id: `${args.name}-id`, state: { ...args.inputs, ...commandOutputs } };
    },
    call(args) {
      throw new Error(`unmocked invoke ${args.token}`);
    },
  },
  "kind-dev-test",
  "unit",
  false,
);

const recordOptions: pulumi.ResourceTransformation = (args) => {
  options.push({ type: args.type, name: args.name, opts: args.opts, resource: args.resource });
  return undefined;
};

function reset(): void {
  registrations.length = 0;
  options.length = 0;
}

const promiseOf = <T>(output: pulumi.Output<T>) =>
  new Promise<T>((resolve) => output.apply(resolve));

/** Resolves once every pending registration has reached the mocks. */
async function settle(): Promise<void> {
  await pulumi.runtime.awaitStackRegistrations();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
  }
}

// Program-time lookups run docker and kind; here they answer from this table.
const lookups = vi.hoisted(() => ({
  state: new Map<string, "present" | "missing" | "absent" | "unknown">(),
  /** The REPAIR label of a present container. */
  repair: new Map<string, string>(),
  kubeconfigReads: [] as string[],
}));
vi.mock("../../components/lookup", () => ({
  lookupContainer: async (container: string) => ({
    state: lookups.state.get(container) ?? "absent",
    repair: lookups.repair.get(container) ?? "",
  }),
  readKubeconfig: async (cluster: string) => {
    lookups.kubeconfigReads.push(cluster);
    return FAKE_KUBECONFIG;
  },
}));

beforeEach(() => {
  lookups.state.clear();
  lookups.repair.clear();
  lookups.kubeconfigReads.length = 0;
});

type Env = typeof import("../../components");
let lib: Env;

beforeAll(async () => {
  lib = await import("../../components");
});

const CMD = "command:local:Command";

const h = scriptHarness();

async function build(args: import("../../components").KindDevEnvironmentArgs) {
  reset();
  const env = new lib.KindDevEnvironment("dev", args, { transformations: [recordOptions] });
  await promiseOf(env.urn);
  await promiseOf(pulumi.all([env.kubeconfig, env.nodeNames, env.mirrors, env.registryHost]));
  await settle();
  return env;
}

function names(): string[] {
  return registrations.map((r) => `${r.type} ${r.name}`).sort();
}

function inputsOf(name: string): Record<string, unknown> {
  const found = registrations.filter((r) => r.name === name);
  expect(found, `registration of ${name}`).toHaveLength(1);
  return found[0]!.inputs;
}

function optsOf(name: string): pulumi.CustomResourceOptions {
  const found = options.filter((o) => o.name === name);
  expect(found, `options of ${name}`).toHaveLength(1);
  return found[0]!.opts as pulumi.CustomResourceOptions;
}

async function dependsOnNames(name: string): Promise<string[]> {
  const deps = optsOf(name).dependsOn;
  const list = (deps === undefined ? [] : Array.isArray(deps) ? deps : [deps]) as pulumi.Resource[];
  const urns = await Promise.all(list.map((r) => promiseOf(r.urn)));
  return urns.map((u) => u.split("::").pop()!).sort();
}

/** The script file of each step of each command, with one worker and nothing retained. */
const STEP_FILES: Record<string, Partial<Record<"create" | "update" | "delete", string>>> = {
  "dev-network": { create: "network-ensure", delete: "network-remove" },
  "dev-registry": { create: "registry-ensure", delete: "registry-remove" },
  "dev-cache-docker-io": { create: "registry-ensure", delete: "registry-remove" },
  "dev-cluster": { create: "cluster-create", update: "cluster-update", delete: "cluster-delete" },
  "dev-control-plane-hosts": { create: "hosts-sync", delete: "hosts-clear" },
  "dev-worker-hosts": { create: "hosts-sync", delete: "hosts-clear" },
};

const SHARED = [
  `${CMD} dev-cache-docker-io`,
  `${CMD} dev-cluster`,
  `${CMD} dev-network`,
  `${CMD} dev-registry`,
  "kind-dev:index:KindDevEnvironment dev",
  "kubernetes:core/v1:ConfigMap dev-local-registry-hosting",
  "pulumi:providers:kubernetes dev-k8s",
];

describe("KindDevEnvironment under mocks", () => {
  it("declares exactly the expected resources with no workers", async () => {
    await build({ clusterName: "dev" });
    expect(names()).toEqual([...SHARED, `${CMD} dev-control-plane-hosts`].sort());
  });

  it("declares one hosts.toml command per node, one variable per file, with two workers", async () => {
    await build({ clusterName: "dev", workers: 2 });
    expect(names().filter((n) => n.includes("-hosts"))).toEqual([
      `${CMD} dev-control-plane-hosts`,
      `${CMD} dev-worker-hosts`,
      `${CMD} dev-worker2-hosts`,
    ]);
    expect(names()).toHaveLength(SHARED.length + 3);
    expect(inputsOf("dev-worker2-hosts")["environment"]).toEqual({
      KIND_DEV_CREATE: stepText("hosts-sync", true),
      KIND_DEV_DELETE: stepText("hosts-clear", true),
      NODE: "dev-worker2",
      ...DEFAULT_HOSTS_ENVIRONMENT,
    });
    expect(inputsOf("dev-control-plane-hosts")["environment"]).toMatchObject({
      NODE: "dev-control-plane",
    });
  });

  it("adds a cache command and one hosts.toml command per node for each upstream", async () => {
    await build({
      clusterName: "dev",
      workers: 1,
      caches: [{ upstreamHost: "docker.io" }, { upstreamHost: "ghcr.io", hostPort: 5002 }],
    });
    expect(names()).toContain(`${CMD} dev-cache-ghcr-io`);
    expect(names().filter((n) => n.includes("-hosts"))).toEqual([
      `${CMD} dev-control-plane-hosts`,
      `${CMD} dev-worker-hosts`,
    ]);
    expect(inputsOf("dev-worker-hosts")["environment"]).toMatchObject({
      HOSTS: `${DEFAULT_HOSTS_ENVIRONMENT.HOSTS}HOSTS_TOML_GHCR_IO ghcr.io\n`,
      HOSTS_TOML_GHCR_IO:
        'server = "https://ghcr.io"\n\n[host."http://kind-cache-ghcr-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
    });
    expect(inputsOf("dev-cache-ghcr-io")["environment"]).toMatchObject({
      CONTAINER: "kind-cache-ghcr-io",
      VOLUME: "kind-cache-ghcr-io-data",
      ROLE: "cache",
      UPSTREAM: "ghcr.io",
      PUBLISH: "127.0.0.1:5002:5000",
      ENV_NAMES: "REGISTRY_PROXY_REMOTEURL REGISTRY_STORAGE_DELETE_ENABLED",
      REGISTRY_PROXY_REMOTEURL: "https://ghcr.io",
      PROBE_URL: "",
    });
  });

  it("declares no cache when caches is empty", async () => {
    await build({ clusterName: "dev", caches: [] });
    expect(names().filter((n) => n.includes("cache"))).toEqual([]);
    expect(names().filter((n) => n.includes("-hosts"))).toEqual([`${CMD} dev-control-plane-hosts`]);
    expect(inputsOf("dev-control-plane-hosts")["environment"]).toEqual({
      KIND_DEV_CREATE: stepText("hosts-sync", true),
      KIND_DEV_DELETE: stepText("hosts-clear", true),
      NODE: "dev-control-plane",
      HOSTS: DEFAULT_HOSTS_ENVIRONMENT.HOSTS.replace("HOSTS_TOML_DOCKER_IO docker.io\n", ""),
      HOSTS_TOML_LOCALHOST_5001: DEFAULT_HOSTS_ENVIRONMENT.HOSTS_TOML_LOCALHOST_5001,
      HOSTS_TOML_KIND_REGISTRY_5000: DEFAULT_HOSTS_ENVIRONMENT.HOSTS_TOML_KIND_REGISTRY_5000,
    });
  });

  it("runs the push registry on loopback with a named volume and waits for /v2/", async () => {
    await build({ clusterName: "dev" });
    const registry = inputsOf("dev-registry");
    expect(registry["environment"]).toEqual({
      CONTAINER: "kind-registry",
      IMAGE: "registry:3",
      NETWORK: "kind",
      VOLUME: "kind-registry-data",
      ROLE: "registry",
      // The default registry's fingerprint. It changes only when the spec does, and a changed
      // fingerprint replaces users' containers at their next `pulumi up`: change it knowingly.
      SPEC: "5df45842d5f282ae37088af14d058e85",
      SETTINGS:
        "image=registry:3 network=kind volume=kind-registry-data publish=127.0.0.1:5001:5000 env.REGISTRY_STORAGE_DELETE_ENABLED=true",
      SECRET_NAMES: "",
      // The stack that creates the container labels it (LABEL_OWNER): project/stack.
      OWNER: "kind-dev-test/unit",
      UPSTREAM: "",
      PUBLISH: "127.0.0.1:5001:5000",
      ENV_NAMES: "REGISTRY_STORAGE_DELETE_ENABLED",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
      PROBE_URL: "http://127.0.0.1:5001/v2/",
      ATTEMPTS: "60",
      REPAIR: "ok",
      KIND_DEV_CREATE: stepText("registry-ensure"),
    });
    expect(inputsOf("dev-cache-docker-io")["environment"]).toMatchObject({
      CONTAINER: "kind-cache-docker-io",
      IMAGE: "registry:3",
      VOLUME: "kind-cache-docker-io-data",
      PUBLISH: "",
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
    });
  });

  it("re-runs a container's script when the lookup finds it removed by hand", async () => {
    lookups.state.set("kind-registry", "missing");
    lookups.state.set("kind-cache-docker-io", "present");
    await build({ clusterName: "dev" });
    const repair = (name: string) =>
      (inputsOf(name)["environment"] as Record<string, string>)["REPAIR"];
    const first = repair("dev-registry");
    expect(first).toMatch(/^recreate@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(repair("dev-cache-docker-io")).toBe("ok");
    // An environment change updates in place; a trigger would replace (and delete) the container.
    expect(inputsOf("dev-registry")["triggers"]).toBeUndefined();
    // The next run finds the container the repair started, labelled with that value: no change.
    lookups.state.set("kind-registry", "present");
    lookups.repair.set("kind-registry", first!);
    await build({ clusterName: "dev" });
    expect(repair("dev-registry")).toBe(first);
    // Removed again: a value unlike the last one, so the script runs again.
    lookups.state.set("kind-registry", "missing");
    await new Promise((r) => setTimeout(r, 5));
    await build({ clusterName: "dev" });
    expect(repair("dev-registry")).toMatch(/^recreate@/);
    expect(repair("dev-registry")).not.toBe(first);
  });

  it("creates the cluster once the registry and every cache run; node commands and the ConfigMap wait for it", async () => {
    await build({ clusterName: "dev", workers: 1 });
    expect(await dependsOnNames("dev-cluster")).toEqual(
      ["dev-cache-docker-io", "dev-network", "dev-registry"].sort(),
    );
    expect(await dependsOnNames("dev-registry")).toEqual(["dev-network"]);
    expect(await dependsOnNames("dev-cache-docker-io")).toEqual(["dev-network"]);
    for (const n of ["dev-control-plane-hosts", "dev-worker-hosts"]) {
      expect(await dependsOnNames(n)).toEqual(
        ["dev-cache-docker-io", "dev-cluster", "dev-registry"].sort(),
      );
      expect(optsOf(n).deleteBeforeReplace).toBe(true);
      expect(inputsOf(n)["triggers"]).toEqual(["dev-cluster-id"]);
    }
    expect(await dependsOnNames("dev-k8s")).toEqual(["dev-cluster"]);
    expect(await dependsOnNames("dev-local-registry-hosting")).toEqual(
      ["dev-cluster", "dev-registry"].sort(),
    );
    const provider = optsOf("dev-local-registry-hosting").provider as pulumi.ProviderResource;
    expect(await promiseOf(provider.urn)).toMatch(/::dev-k8s$/);
    await build({ clusterName: "dev", caches: [{ upstreamHost: "ghcr.io" }] });
    expect(await dependsOnNames("dev-cluster")).toEqual(
      ["dev-cache-ghcr-io", "dev-network", "dev-registry"].sort(),
    );
    await build({ clusterName: "dev", caches: [] });
    expect(await dependsOnNames("dev-cluster")).toEqual(["dev-network", "dev-registry"]);
  });

  it("runs kind with the rendered config and replaces the cluster when the config changes", async () => {
    await build(KIND_CONFIG_ARGS);
    expect(inputsOf("dev-cluster")["environment"]).toEqual({
      KIND_DEV_CREATE: stepText("cluster-create"),
      KIND_DEV_UPDATE: stepText("cluster-update"),
      KIND_DEV_DELETE: stepText("cluster-delete"),
      CLUSTER: "dev",
      KIND_CONFIG,
      NODE_IMAGE: "kindest/node:v1.34.0",
    });
    expect(optsOf("dev-cluster").deleteBeforeReplace).toBe(true);
  });

  it("points kind at a non-default network through KIND_EXPERIMENTAL_DOCKER_NETWORK", async () => {
    await build({ clusterName: "dev", networkName: "devnet" });
    expect(inputsOf("dev-cluster")["environment"]).toMatchObject({
      KIND_EXPERIMENTAL_DOCKER_NETWORK: "devnet",
    });
    expect(inputsOf("dev-network")["environment"]).toEqual({
      NETWORK: "devnet",
      KIND_DEV_CREATE: stepText("network-ensure"),
    });
  });

  it.each<[boolean | undefined, string[]]>([
    [undefined, ["dev-cache-docker-io", "dev-network", "dev-registry"]],
    [false, []],
  ])("with retainOnDestroy %s retains %j on destroy", async (retainOnDestroy, retained) => {
    await build({ clusterName: "dev", retainOnDestroy });
    const names = options.filter((o) => o.opts.retainOnDelete === true).map((o) => o.name);
    expect(names.sort()).toEqual(retained);
    for (const n of ["dev-network", "dev-registry", "dev-cache-docker-io"]) {
      const environment = inputsOf(n)["environment"] as object;
      expect("KIND_DEV_DELETE" in environment, n).toBe(!retained.includes(n));
      expect(inputsOf(n)["delete"] === undefined, n).toBe(retained.includes(n));
    }
  });

  it("parents every child to the component", async () => {
    const env = await build({ clusterName: "dev", workers: 1 });
    expect(await promiseOf(env.urn)).toBe(
      "urn:pulumi:unit::kind-dev-test::kind-dev:index:KindDevEnvironment::dev",
    );
    const children = options.filter((o) => o.type !== "kind-dev:index:KindDevEnvironment");
    const childUrns = await Promise.all(children.map((o) => promiseOf(o.resource.urn)));
    expect(childUrns).toHaveLength(registrations.length - 1);
    for (const urn of childUrns) {
      expect(urn).toMatch(
        /^urn:pulumi:unit::kind-dev-test::kind-dev:index:KindDevEnvironment\$[^:]/,
      );
    }
  });

  it("exposes the documented outputs, with the kubeconfig secret", async () => {
    const env = await build({ clusterName: "dev", workers: 2 });
    expect(await promiseOf(env.clusterName)).toBe("dev");
    expect(await promiseOf(env.kubeconfig)).toBe(FAKE_KUBECONFIG);
    expect(await pulumi.isSecret(env.kubeconfig)).toBe(true);
    expect(lookups.kubeconfigReads).toContain("dev");
    expect(await pulumi.isSecret(env.registryHost)).toBe(false);
    expect(await promiseOf(env.registryHost)).toBe("localhost:5001");
    expect(await promiseOf(env.registryHostFromClusterNetwork)).toBe("kind-registry:5000");
    expect(await promiseOf(env.mirrors)).toEqual({
      "docker.io": "http://kind-cache-docker-io:5000",
    });
    expect(await promiseOf(env.nodeNames)).toEqual([
      "dev-control-plane",
      "dev-worker",
      "dev-worker2",
    ]);
    expect(await promiseOf(env.networkName)).toBe("kind");
    expect(env.provider).toBeInstanceOf(pulumi.ProviderResource);
    const providerInputs = inputsOf("dev-k8s");
    // Provider inputs reach the engine JSON-encoded.
    expect(providerInputs["deleteUnreachable"]).toBe("true");
  });

  /** A cache command's environment, which reaches the engine wrapped as a secret value. */
  function secretEnvironment(name: string): Record<string, string> {
    const environment = inputsOf(name)["environment"] as Record<string, unknown>;
    expect(environment[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    return environment["value"] as Record<string, string>;
  }

  it("keeps upstream credentials secret and passes them as environment only", async () => {
    const withLogin = async (username: string, password: string) => {
      const caches = [{ upstreamHost: "docker.io", username, password }];
      await build({ clusterName: "dev", caches });
      return secretEnvironment("dev-cache-docker-io");
    };
    const env = await withLogin("bob", "hunter2");
    expect(env).toMatchObject({
      ENV_NAMES:
        "REGISTRY_PROXY_PASSWORD REGISTRY_PROXY_REMOTEURL REGISTRY_PROXY_USERNAME REGISTRY_STORAGE_DELETE_ENABLED",
      REGISTRY_PROXY_USERNAME: "bob",
      REGISTRY_PROXY_PASSWORD: "hunter2",
      KIND_DEV_CREATE: stepText("registry-ensure"),
      SECRET_NAMES: "REGISTRY_PROXY_PASSWORD REGISTRY_PROXY_USERNAME",
    });
    // Nothing else carries the credential: not the scripts, not another resource.
    const cache = inputsOf("dev-cache-docker-io");
    for (const r of registrations.filter((x) => x.name !== "dev-cache-docker-io")) {
      expect(JSON.stringify(r.inputs)).not.toContain("hunter2");
    }
    expect(JSON.stringify([cache["create"], cache["update"]])).not.toContain("hunter2");
    // The fingerprint counts the credentials by name: the same for any password.
    const other = await withLogin("alice", "correct horse battery staple");
    expect(other["SPEC"]).toBe(env["SPEC"]);
    expect(other["SETTINGS"]).toBe(env["SETTINGS"]);
  });

  it("takes credentialsFromDocker's login from DOCKER_CONFIG, secret, at every run", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kdev-priv-config-"));
    const login = (user: string, password: string) =>
      writeFileSync(
        path.join(dir, "config.json"),
        JSON.stringify({
          auths: { "ghcr.io": { auth: Buffer.from(`${user}:${password}`).toString("base64") } },
        }),
      );
    vi.stubEnv("DOCKER_CONFIG", dir);
    try {
      const args = {
        clusterName: "dev",
        caches: [{ upstreamHost: "ghcr.io", credentialsFromDocker: true }],
      };
      login("carol", "first-pat");
      await build(args);
      expect(secretEnvironment("dev-cache-ghcr-io")).toMatchObject({
        REGISTRY_PROXY_USERNAME: "carol",
        REGISTRY_PROXY_PASSWORD: "first-pat",
        SECRET_NAMES: "REGISTRY_PROXY_PASSWORD REGISTRY_PROXY_USERNAME",
      });
      // A new `docker login` reaches the next run.
      login("carol", "second-pat");
      await build(args);
      expect(secretEnvironment("dev-cache-ghcr-io")).toMatchObject({
        REGISTRY_PROXY_PASSWORD: "second-pat",
      });
      for (const r of registrations.filter((x) => x.name !== "dev-cache-ghcr-io")) {
        expect(JSON.stringify(r.inputs)).not.toContain("second-pat");
      }
      // No login: the constructor throws before a single resource is registered.
      rmSync(path.join(dir, "config.json"));
      reset();
      expect(
        () => new lib.KindDevEnvironment("dev", args, { transformations: [recordOptions] }),
      ).toThrow(
        `KindDevEnvironment: invalid caches[0].credentialsFromDocker true: ${dir}/config.json has no login for ghcr.io; run 'docker login ghcr.io' on this machine`,
      );
      await settle();
      expect(registrations.filter((r) => r.type !== "kind-dev:index:KindDevEnvironment")).toEqual(
        [],
      );
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes the KEP-1755 ConfigMap in kube-public", async () => {
    await build({ clusterName: "dev" });
    expect(inputsOf("dev-local-registry-hosting")).toMatchObject({
      metadata: { name: "local-registry-hosting", namespace: "kube-public" },
      data: {
        "localRegistryHosting.v1":
          'host: "localhost:5001"\nhostFromContainerRuntime: "localhost:5001"\nhostFromClusterNetwork: "kind-registry:5000"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n',
      },
    });
  });

  it("gives every command step a short line that names its script, the text in the environment", async () => {
    await build({ clusterName: "dev", workers: 1, retainOnDestroy: false });
    const commands = registrations.filter((r) => r.type === CMD);
    expect(commands.map((c) => c.name).sort()).toEqual(Object.keys(STEP_FILES).sort());
    for (const { name, inputs } of commands) {
      const environment = inputs["environment"] as Record<string, string>;
      for (const step of ["create", "update", "delete"] as const) {
        const file = STEP_FILES[name]?.[step];
        const variable = `KIND_DEV_${step.toUpperCase()}`;
        if (file === undefined) {
          expect(inputs[step], `${name} ${step}`).toBeUndefined();
          expect(environment, `${name} ${step}`).not.toHaveProperty(variable);
          continue;
        }
        const line = inputs[step] as string;
        expect(line, `${name} ${step}`).toBe(`exec /bin/sh -c "\${${variable}:?}" ${file}.sh`);
        expect(line.length).toBeLessThan(100);
        expect(environment[variable], `${name} ${step}`).toBe(
          stepText(file, name.endsWith("-hosts")),
        );
      }
    }
  });

  it("runs each step's script through its line, with the command's environment: nothing on stdout", async () => {
    await build({ clusterName: "dev", retainOnDestroy: false });
    const firstCalls: Record<string, string> = {};
    for (const { name, inputs } of registrations.filter((r) => r.type === CMD)) {
      const environment = inputs["environment"] as Record<string, string>;
      for (const step of ["create", "update", "delete"] as const) {
        if (typeof inputs[step] !== "string") {
          continue;
        }
        // The update step checks that the cluster is still there; the registry's steps run
        // once the network exists; the registry "answers".
        h.resetEngine();
        const r = h.run({ ...inputs, environment } as Script, step, {
          ...seed({ networks: [{ name: "kind" }] }),
          ...(step === "update" ? { FAKE_KIND_CLUSTERS: "dev\n" } : {}),
          ...(name === "dev-registry" ? { PROBE_URL: PROBE } : {}),
        });
        expect(r.status, `${name} ${step}: ${r.stderr}`).toBe(0);
        expect(r.stdout, `${name} ${step}`).toBe("");
        const first = r.calls[0];
        firstCalls[`${name} ${step}`] = first
          ? [first.tool, ...first.argv.slice(0, 2)].join(" ")
          : "";
      }
    }
    expect(firstCalls).toEqual({
      "dev-network create": "docker info",
      "dev-network delete": "docker info",
      "dev-registry create": "docker info",
      "dev-registry delete": "docker info",
      "dev-cache-docker-io create": "docker info",
      "dev-cache-docker-io delete": "docker info",
      "dev-cluster create": "docker info",
      "dev-cluster update": "kind get clusters",
      "dev-cluster delete": "docker info",
      "dev-control-plane-hosts create": "docker info",
      "dev-control-plane-hosts delete": "docker exec dev-control-plane",
    });
  }, 60_000);

  it("replaces only the cluster, only for what names it: new script texts or REPAIR update in place", async () => {
    // The engine replaces a command when an input under its replaceOnChanges changes and updates
    // it otherwise: test/integration/commandSteps.test.ts shows it on the real engine.
    await build({ clusterName: "dev", networkName: "devnet", retainOnDestroy: false });
    const replacing = registrations
      .filter((r) => r.type === CMD)
      .map((r) => [r.name, optsOf(r.name).replaceOnChanges]);
    // triggers[*] is the command SDK's own; the node commands' trigger is the cluster's id.
    expect(Object.fromEntries(replacing)).toEqual({
      "dev-network": ["triggers[*]"],
      "dev-registry": ["triggers[*]"],
      "dev-cache-docker-io": ["triggers[*]"],
      "dev-cluster": [
        "environment.CLUSTER",
        "environment.KIND_CONFIG",
        "environment.KIND_EXPERIMENTAL_DOCKER_NETWORK",
        "triggers[*]",
      ],
      "dev-control-plane-hosts": ["triggers[*]"],
    });
    // Every variable of the cluster's environment but the script texts names the cluster.
    const variables = Object.keys(inputsOf("dev-cluster")["environment"] as object);
    expect(variables.filter((v) => !v.startsWith("KIND_DEV_")).sort()).toEqual([
      "CLUSTER",
      "KIND_CONFIG",
      "KIND_EXPERIMENTAL_DOCKER_NETWORK",
    ]);
  });

  it("creates nothing when an argument is invalid", async () => {
    reset();
    expect(() => new lib.KindDevEnvironment("bad", { registryPort: 70000 })).toThrow(
      "KindDevEnvironment: invalid registryPort 70000: must be a whole number from 1 to 65535",
    );
    await settle();
    expect(registrations.filter((r) => r.name !== "bad")).toEqual([]);
  });
});
