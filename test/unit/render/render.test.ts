import * as fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONTAINERD_CONFIG_PATCH } from "../../../components/render/containerd";
import {
  cacheContainerSpec,
  envList,
  registryContainerSpec,
} from "../../../components/render/containerSpecs";
import {
  renderMirrorHostsToml,
  renderRegistryHostsToml,
} from "../../../components/render/hostsToml";
import { kindNodeNames, renderKindConfig } from "../../../components/render/kindConfig";
import { renderLocalRegistryHosting } from "../../../components/render/localRegistryHosting";
import { tomlString, urlHost, yamlString } from "../../../components/render/text";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";

describe("renderKindConfig", () => {
  it("renders a control plane only, with the containerd patch and nothing legacy", () => {
    expect(
      renderKindConfig({
        clusterName: "dev",
        workers: 0,
        extraPortMappings: [],
        maxParallelImagePulls: 1,
      }),
    ).toBe(
      `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: "dev"
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
nodes:
  - role: control-plane
`,
    );
  });

  it("renders workers, the node image on every node and port mappings on the control plane", () => {
    expect(
      renderKindConfig({
        clusterName: "dev",
        workers: 2,
        nodeImage: "kindest/node:v1.34.0",
        extraPortMappings: [
          { containerPort: 80, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
          { containerPort: 53, hostPort: 5353, listenAddress: "0.0.0.0", protocol: "UDP" },
        ],
        maxParallelImagePulls: 5,
      }),
    ).toBe(
      `kind: Cluster
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
    extraPortMappings:
      - containerPort: 80
        hostPort: 8080
        listenAddress: "127.0.0.1"
        protocol: TCP
      - containerPort: 53
        hostPort: 5353
        listenAddress: "0.0.0.0"
        protocol: UDP
  - role: worker
    image: "kindest/node:v1.34.0"
  - role: worker
    image: "kindest/node:v1.34.0"
`,
    );
  });

  it("parses as the YAML structure kind expects, and the patch as TOML", () => {
    const doc = parseYaml(
      renderKindConfig({
        clusterName: "a",
        workers: 3,
        extraPortMappings: [],
        maxParallelImagePulls: 3,
      }),
    ) as {
      kind: string;
      apiVersion: string;
      name: string;
      containerdConfigPatches: string[];
      kubeadmConfigPatches: string[];
      nodes: { role: string }[];
    };
    // No apiVersion: kind then matches the patch to kubeadm v1beta3 and v1beta4 configs alike.
    expect(doc.kubeadmConfigPatches.map((p) => parseYaml(p) as unknown)).toEqual([
      { kind: "KubeletConfiguration", serializeImagePulls: false, maxParallelImagePulls: 3 },
    ]);
    expect(doc.kind).toBe("Cluster");
    expect(doc.apiVersion).toBe("kind.x-k8s.io/v1alpha4");
    expect(doc.nodes.map((n) => n.role)).toEqual(["control-plane", "worker", "worker", "worker"]);
    expect(doc.containerdConfigPatches).toEqual([CONTAINERD_CONFIG_PATCH]);
    expect(parseToml(CONTAINERD_CONFIG_PATCH)).toEqual({
      plugins: {
        "io.containerd.grpc.v1.cri": { registry: { config_path: "/etc/containerd/certs.d" } },
      },
    });
    expect(CONTAINERD_CONFIG_PATCH).not.toMatch(/mirrors|configs/);
  });
});

describe("kindNodeNames", () => {
  it.each([
    [0, ["dev-control-plane"]],
    [1, ["dev-control-plane", "dev-worker"]],
    [3, ["dev-control-plane", "dev-worker", "dev-worker2", "dev-worker3"]],
  ])("with %i workers", (workers, expected) => {
    expect(kindNodeNames("dev", workers)).toEqual(expected);
  });
});

describe("hosts.toml", () => {
  it("maps the push registry host to the registry container", () => {
    expect(renderRegistryHostsToml("http://kind-registry:5000")).toBe(
      '[host."http://kind-registry:5000"]\n',
    );
  });

  it("puts the cache first for pull and resolve and keeps the upstream as server", () => {
    const toml = renderMirrorHostsToml(
      "https://registry-1.docker.io",
      "http://kind-cache-docker-io:5000",
    );
    expect(toml).toBe(
      `server = "https://registry-1.docker.io"

[host."http://kind-cache-docker-io:5000"]
  capabilities = ["pull", "resolve"]
`,
    );
    expect(parseToml(toml)).toEqual({
      server: "https://registry-1.docker.io",
      host: { "http://kind-cache-docker-io:5000": { capabilities: ["pull", "resolve"] } },
    });
  });
});

describe("local-registry-hosting", () => {
  it("renders the four KEP-1755 fields", () => {
    const yaml = renderLocalRegistryHosting({
      host: "localhost:5001",
      hostFromClusterNetwork: "kind-registry:5000",
    });
    expect(yaml).toBe(
      `host: "localhost:5001"
hostFromContainerRuntime: "localhost:5001"
hostFromClusterNetwork: "kind-registry:5000"
help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
`,
    );
    expect(parseYaml(yaml)).toEqual({
      host: "localhost:5001",
      hostFromContainerRuntime: "localhost:5001",
      hostFromClusterNetwork: "kind-registry:5000",
      help: "https://kind.sigs.k8s.io/docs/user/local-registry/",
    });
  });
});

describe("container specs", () => {
  it("registry: loopback port, delete enabled, labels, named volume", () => {
    expect(registryContainerSpec(REGISTRY_INPUT)).toEqual({
      role: "registry",
      name: "kind-registry",
      image: "registry:3",
      network: "kind",
      volume: "kind-registry-data",
      env: { REGISTRY_STORAGE_DELETE_ENABLED: "true" },
      ports: [{ hostIp: "127.0.0.1", hostPort: 5001, containerPort: 5000 }],
      labels: { "dev.pulumi-kind-dev.managed": "true", "dev.pulumi-kind-dev.role": "registry" },
      restart: "always",
    });
  });

  it("cache: proxy mode, optional TTL, unpublished unless a host port is given", () => {
    const base = DOCKER_HUB_CACHE_INPUT;
    const plain = cacheContainerSpec(base);
    expect(plain.env).toEqual({
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(plain.ports).toEqual([]);
    expect(plain.labels).toEqual({
      "dev.pulumi-kind-dev.managed": "true",
      "dev.pulumi-kind-dev.role": "cache",
      "dev.pulumi-kind-dev.upstream": "docker.io",
    });
    const published = cacheContainerSpec({ ...base, ttl: "72h", hostPort: 5002 });
    expect(envList(published.env)).toEqual([
      "REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io",
      "REGISTRY_PROXY_TTL=72h",
      "REGISTRY_STORAGE_DELETE_ENABLED=true",
    ]);
    expect(published.ports).toEqual([{ hostIp: "127.0.0.1", hostPort: 5002, containerPort: 5000 }]);
  });
});

describe("quoting", () => {
  it("tomlString round-trips any string through a TOML parser", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        expect(parseToml(`k = ${tomlString(s)}`)).toEqual({ k: s });
      }),
      { numRuns: 500 },
    );
  });

  it("yamlString round-trips any string through a YAML parser", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        expect(parseYaml(`k: ${yamlString(s)}`)).toEqual({ k: s });
      }),
      { numRuns: 500 },
    );
  });

  it("hosts.toml keeps its structure whatever the endpoint strings contain", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (server, host) => {
        expect(parseToml(renderMirrorHostsToml(server, host))).toEqual({
          server,
          host: { [host]: { capabilities: ["pull", "resolve"] } },
        });
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
    ["::1", "[::1]", "[::1]"],
    ["fd00::5", "[fd00::5]", "[fd00::5]"],
    ["0.0.0.0", "0.0.0.0", "127.0.0.1"],
    ["::", "[::]", "[::1]"],
    ["", "", "127.0.0.1"],
  ])("urlHost(%j) is %j, and %j to connect to", (ip, listen, connect) => {
    expect(urlHost(ip)).toBe(listen);
    expect(urlHost(ip, { connect: true })).toBe(connect);
  });
});
