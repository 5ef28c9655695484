import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  FAKE_KUBECONFIG,
  isSecret,
  options,
  promiseOf,
  recordOptions,
  registrations,
  reset,
  settle,
} from "./mocks";

// Program-time lookups run docker and kind; here they answer from this table.
const lookups = vi.hoisted(() => ({
  state: new Map<string, "present" | "missing" | "absent" | "unknown">(),
  kubeconfigReads: [] as string[],
  /** What nodeHasUnmanagedHostsFiles answers: true for a node with version 0.1's files. */
  unmanagedHosts: false,
  nodesLookedUp: [] as string[],
}));
vi.mock("../../components/lookup", () => ({
  containerState: async (container: string) => lookups.state.get(container) ?? "absent",
  readKubeconfig: async (cluster: string) => {
    lookups.kubeconfigReads.push(cluster);
    return FAKE_KUBECONFIG;
  },
  nodeHasUnmanagedHostsFiles: async (node: string) => {
    lookups.nodesLookedUp.push(node);
    return lookups.unmanagedHosts;
  },
}));

beforeEach(() => {
  lookups.state.clear();
  lookups.kubeconfigReads.length = 0;
  lookups.unmanagedHosts = false;
  lookups.nodesLookedUp.length = 0;
});

type Env = typeof import("../../components");
let lib: Env;

beforeAll(async () => {
  lib = await import("../../components");
});

const CMD = "command:local:Command";

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
  // The node commands' dependsOn waits for the lookup of version 0.1's files: the SDK hands it
  // to transformations as an Output.
  const opt = optsOf(name).dependsOn;
  const deps: unknown = pulumi.Output.isInstance(opt)
    ? await new Promise((resolve) => (opt as pulumi.Output<unknown>).apply(resolve))
    : opt;
  const list = (deps === undefined ? [] : Array.isArray(deps) ? deps : [deps]) as pulumi.Resource[];
  const urns = await Promise.all(list.map((r) => promiseOf(r.urn)));
  return urns.map((u) => u.split("::").pop()!).sort();
}

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
      NODE: "dev-worker2",
      HOSTS:
        "HOSTS_TOML_LOCALHOST_5001 localhost:5001\n" +
        "HOSTS_TOML_KIND_REGISTRY_5000 kind-registry:5000\n" +
        "HOSTS_TOML_DOCKER_IO docker.io\n",
      HOSTS_TOML_LOCALHOST_5001: '[host."http://kind-registry:5000"]\n',
      HOSTS_TOML_KIND_REGISTRY_5000: '[host."http://kind-registry:5000"]\n',
      HOSTS_TOML_DOCKER_IO:
        'server = "https://registry-1.docker.io"\n\n[host."http://kind-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
    });
    expect(inputsOf("dev-control-plane-hosts")["environment"]).toMatchObject({
      NODE: "dev-control-plane",
    });
    const scripts = path.resolve(__dirname, "../../components/scripts");
    const read = (f: string) => readFileSync(path.join(scripts, `${f}.sh`), "utf8");
    const embedded = `node_script() {\n  cat <<'KIND_DEV_NODE_SCRIPT'\n${read("hosts-node")}KIND_DEV_NODE_SCRIPT\n}\n`;
    const worker = inputsOf("dev-worker-hosts");
    expect(worker["create"]).toBe(`set -eu\n${read("lib")}\n${embedded}${read("hosts-sync")}`);
    expect(worker["delete"]).toBe(`set -eu\n${read("lib")}\n${embedded}${read("hosts-clear")}`);
    expect(worker["update"]).toBeUndefined();
    // Only the control plane is looked up for version 0.1's files.
    expect(lookups.nodesLookedUp).toEqual(["dev-control-plane"]);
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
      HOSTS:
        "HOSTS_TOML_LOCALHOST_5001 localhost:5001\n" +
        "HOSTS_TOML_KIND_REGISTRY_5000 kind-registry:5000\n" +
        "HOSTS_TOML_DOCKER_IO docker.io\n" +
        "HOSTS_TOML_GHCR_IO ghcr.io\n",
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
      NODE: "dev-control-plane",
      HOSTS:
        "HOSTS_TOML_LOCALHOST_5001 localhost:5001\nHOSTS_TOML_KIND_REGISTRY_5000 kind-registry:5000\n",
      HOSTS_TOML_LOCALHOST_5001: '[host."http://kind-registry:5000"]\n',
      HOSTS_TOML_KIND_REGISTRY_5000: '[host."http://kind-registry:5000"]\n',
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
    });
    const scripts = path.resolve(__dirname, "../../components/scripts");
    expect(registry["create"]).toBe(
      `set -eu\n${readFileSync(path.join(scripts, "lib.sh"), "utf8")}\n${readFileSync(path.join(scripts, "registry-ensure.sh"), "utf8")}`,
    );
    expect(registry["delete"]).toBeUndefined();
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
    expect(inputsOf("dev-registry")["environment"]).toMatchObject({ REPAIR: "recreate" });
    expect(inputsOf("dev-cache-docker-io")["environment"]).toMatchObject({ REPAIR: "ok" });
    // An environment change updates in place; a trigger would replace (and delete) the container.
    expect(inputsOf("dev-registry")["triggers"]).toBeUndefined();
  });

  it("starts the cluster beside the registries; node commands and the ConfigMap wait for both", async () => {
    await build({ clusterName: "dev", workers: 1 });
    expect(await dependsOnNames("dev-cluster")).toEqual(["dev-network"]);
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
  });

  it("hands version 0.1's commands per file over before a node's command writes", async () => {
    lookups.unmanagedHosts = true;
    await build({ clusterName: "dev", workers: 1 });
    const handovers = ["control-plane", "worker"].flatMap((n) =>
      ["docker-io", "kind-registry-5000", "localhost-5001"].map((s) => `dev-${n}-hosts-${s}`),
    );
    expect(names()).toEqual(
      [
        ...SHARED,
        `${CMD} dev-control-plane-hosts`,
        `${CMD} dev-worker-hosts`,
        ...handovers.map((h) => `${CMD} ${h}`),
      ].sort(),
    );
    for (const h of handovers) {
      const node = h.replace(/-hosts-.*$/, "-hosts");
      // A new trigger replaces 0.1's command; deleteBeforeReplace runs its delete step first.
      expect(inputsOf(h)).toEqual({ create: "true", triggers: [`handed over to ${node}`] });
      expect(optsOf(h).deleteBeforeReplace).toBe(true);
      expect(await dependsOnNames(h)).toEqual(["dev-cluster"]);
    }
    expect(await dependsOnNames("dev-worker-hosts")).toEqual(
      [
        "dev-cache-docker-io",
        "dev-cluster",
        "dev-registry",
        "dev-worker-hosts-docker-io",
        "dev-worker-hosts-kind-registry-5000",
        "dev-worker-hosts-localhost-5001",
      ].sort(),
    );
  });

  it("runs kind with the rendered config and replaces the cluster when the config changes", async () => {
    await build({ clusterName: "dev", workers: 1, nodeImage: "kindest/node:v1.34.0" });
    const cluster = inputsOf("dev-cluster");
    expect(cluster["environment"]).toEqual({
      CLUSTER: "dev",
      KIND_CONFIG: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: "dev"
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
kubeadmConfigPatches:
  - |-
    kind: KubeletConfiguration
    serializeImagePulls: false
    maxParallelImagePulls: 5
nodes:
  - role: control-plane
    image: "kindest/node:v1.34.0"
  - role: worker
    image: "kindest/node:v1.34.0"
`,
    });
    const opts = optsOf("dev-cluster");
    // The environment holds the config and the name; a new script text alone (a new version of
    // this package) runs the update script instead, which leaves the cluster as it is.
    // (the command SDK adds its own triggers[*])
    expect(opts.replaceOnChanges).toEqual(["environment", "triggers[*]"]);
    expect(cluster["update"]).toContain("kind cluster $CLUSTER unchanged");
    expect(opts.deleteBeforeReplace).toBe(true);
  });

  it("points kind at a non-default network through KIND_EXPERIMENTAL_DOCKER_NETWORK", async () => {
    await build({ clusterName: "dev", networkName: "devnet" });
    expect(inputsOf("dev-cluster")["environment"]).toMatchObject({
      KIND_EXPERIMENTAL_DOCKER_NETWORK: "devnet",
    });
    expect(inputsOf("dev-network")["environment"]).toEqual({ NETWORK: "devnet" });
  });

  it("retains network, registry, caches and volumes on destroy by default", async () => {
    await build({ clusterName: "dev" });
    const retained = options.filter((o) => o.opts.retainOnDelete === true).map((o) => o.name);
    expect(retained.sort()).toEqual(["dev-cache-docker-io", "dev-network", "dev-registry"]);
    for (const n of ["dev-network", "dev-registry", "dev-cache-docker-io"]) {
      expect(inputsOf(n)["delete"]).toBeUndefined();
    }
  });

  it("removes everything on destroy when retainOnDestroy is false", async () => {
    await build({ clusterName: "dev", retainOnDestroy: false });
    expect(options.filter((o) => o.opts.retainOnDelete === true)).toEqual([]);
    expect(inputsOf("dev-network")["delete"]).toContain('docker network rm "$id"');
    for (const n of ["dev-registry", "dev-cache-docker-io"]) {
      expect(inputsOf(n)["delete"]).toContain('docker volume rm "$VOLUME"');
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
    expect(await isSecret(env.kubeconfig)).toBe(true);
    expect(lookups.kubeconfigReads).toContain("dev");
    expect(await isSecret(env.registryHost)).toBe(false);
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

  /** The cache command's (secret) environment for these credentials. */
  async function buildCredentials(username: string, password: string) {
    await build({
      clusterName: "dev",
      caches: [{ upstreamHost: "docker.io", username, password }],
    });
    const cache = registrations.find((r) => r.name === "dev-cache-docker-io")!;
    return (cache.inputs["environment"] as { value: Record<string, string> }).value;
  }

  it("keeps upstream credentials secret and passes them as environment only", async () => {
    await build({
      clusterName: "dev",
      caches: [{ upstreamHost: "docker.io", username: "bob", password: "hunter2" }],
    });
    const cache = registrations.find((r) => r.name === "dev-cache-docker-io")!;
    // The whole environment reaches the engine wrapped as a secret value.
    const env = cache.inputs["environment"] as Record<string, unknown>;
    expect(env[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(env["value"]).toMatchObject({
      ENV_NAMES:
        "REGISTRY_PROXY_PASSWORD REGISTRY_PROXY_REMOTEURL REGISTRY_PROXY_USERNAME REGISTRY_STORAGE_DELETE_ENABLED",
      REGISTRY_PROXY_USERNAME: "bob",
      REGISTRY_PROXY_PASSWORD: "hunter2",
      SECRET_NAMES: "REGISTRY_PROXY_PASSWORD REGISTRY_PROXY_USERNAME",
    });
    // The fingerprint counts the credentials by name: the same for any password.
    const other = await buildCredentials("alice", "correct horse battery staple");
    expect(other["SPEC"]).toBe((env["value"] as Record<string, string>)["SPEC"]);
    expect(other["SETTINGS"]).toBe((env["value"] as Record<string, string>)["SETTINGS"]);
    // Nothing else carries the credential: not the scripts, not another resource.
    for (const r of registrations.filter((x) => x.name !== "dev-cache-docker-io")) {
      expect(JSON.stringify(r.inputs)).not.toContain("hunter2");
    }
    expect(JSON.stringify([cache.inputs["create"], cache.inputs["update"]])).not.toContain(
      "hunter2",
    );
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

  it("creates nothing when an argument is invalid", async () => {
    reset();
    expect(() => new lib.KindDevEnvironment("bad", { registryPort: 70000 })).toThrow(
      "KindDevEnvironment: invalid registryPort 70000: must be a whole number from 1 to 65535",
    );
    await settle();
    expect(registrations.filter((r) => r.name !== "bad")).toEqual([]);
  });
});
