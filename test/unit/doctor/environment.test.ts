import { describe, expect, it } from "vitest";
import {
  expectedFiles,
  kepField,
  registryUrl,
  selectCaches,
  selectCluster,
  selectRegistry,
} from "../../../components/doctor/environment";
import type { ContainerInfo } from "../../../components/doctor/parse";
import { INSPECT, NETWORK, PORT } from "./recorded";

const { registry: REGISTRY, cache: CACHE } = INSPECT;

const HOSTING = `host: "localhost:${PORT}"
hostFromContainerRuntime: "localhost:${PORT}"
hostFromClusterNetwork: "kdev-doc-registry:5000"
help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
`;

const NODE_HOSTS = {
  [`localhost:${PORT}`]: '[host."http://kdev-doc-registry:5000"]\n',
  "kdev-doc-registry:5000": '[host."http://kdev-doc-registry:5000"]\n',
  "docker.io":
    'server = "http://kdev-doc-upstream:5000"\n\n[host."http://kdev-doc-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
};

describe("selectCluster", () => {
  const other: ContainerInfo = { ...REGISTRY, name: "other-registry", networks: ["kind"] };
  it.each([
    ["the requested one", "b", ["a", "b"], { name: "b" }],
    [
      "a requested one that does not exist",
      "c",
      ["a", "b"],
      { problem: "no kind cluster named c (kind get clusters: a, b)" },
    ],
    ["none", undefined, [], { problem: "no kind cluster (kind get clusters lists none)" }],
    ["the one whose network holds a registry", undefined, ["a", "b"], { name: "b" }],
  ])("%s", (_name, requested, clusters, expected) => {
    const networks = { a: ["kind"], b: [NETWORK] };
    expect(selectCluster(requested, clusters, networks, [REGISTRY])).toEqual(expected);
  });

  it("asks for --cluster when registries sit on several clusters' networks", () => {
    const networks = { a: ["kind"], b: [NETWORK] };
    expect(selectCluster(undefined, ["a", "b"], networks, [REGISTRY, other])).toEqual({
      problem:
        "several kind clusters (a, b) and 2 with a pulumi-kind-dev registry on its network: choose one with --cluster",
    });
  });
});

describe("selectRegistry", () => {
  it.each([
    [
      "a registry removed by hand, named by the nodes' hosts.toml",
      { containers: [], nodeHosts: [NODE_HOSTS] },
      {
        name: "kdev-doc-registry",
        container: undefined,
        port: PORT,
        volume: "kdev-doc-registry-data",
        foundBy: "the nodes' hosts.toml",
      },
    ],
    [
      "--registry as given",
      { requested: "mine", containers: [] },
      {
        name: "mine",
        container: undefined,
        port: undefined,
        volume: "mine-data",
        foundBy: "--registry",
      },
    ],
    ["nothing when nothing names one", { containers: [CACHE] }, undefined],
  ])("finds %s", (_what, facts, expected) => {
    expect(selectRegistry({ network: NETWORK, nodeHosts: [], ...facts })).toEqual(expected);
  });
});

describe("selectCaches", () => {
  it("finds labelled caches on the network, and the ones the nodes' hosts.toml point at", () => {
    const gone = {
      ...NODE_HOSTS,
      "ghcr.io":
        'server = "https://ghcr.io"\n\n[host."http://kind-cache-ghcr-io:5000"]\n  capabilities = ["pull", "resolve"]\n',
    };
    expect(
      selectCaches({ containers: [REGISTRY, CACHE], network: NETWORK, nodeHosts: [gone] }),
    ).toEqual([
      {
        name: "kdev-doc-cache-docker-io",
        container: CACHE,
        upstreamHost: "docker.io",
        remoteUrl: "http://kdev-doc-upstream:5000",
        volume: "kdev-doc-cache-docker-io-data",
        foundBy: `label, on network ${NETWORK}`,
      },
      {
        name: "kind-cache-ghcr-io",
        container: undefined,
        upstreamHost: "ghcr.io",
        remoteUrl: "https://ghcr.io",
        volume: "kind-cache-ghcr-io-data",
        foundBy: "the nodes' hosts.toml for ghcr.io",
      },
    ]);
  });
});

describe("expectedFiles", () => {
  it("is what the component renders for these names", () => {
    const cache = selectCaches({ containers: [CACHE], network: NETWORK, nodeHosts: [] });
    const expected = expectedFiles({ name: "kdev-doc-registry", port: PORT }, cache);
    expect(Object.fromEntries(expected.hostsFiles.map((f) => [f.hostDir, f.toml]))).toEqual(
      NODE_HOSTS,
    );
    expect(expected.localRegistryHosting).toBe(HOSTING);
  });

  it("throws the component's own error for names it could not have made", () => {
    expect(() => expectedFiles({ name: "Bad_Name", port: 5001 }, [])).toThrow(
      'KindDevEnvironment: invalid registryName "Bad_Name"',
    );
  });
});

describe("kepField and registryUrl", () => {
  it("reads quoted and plain values", () => {
    const text = `host: localhost:5001\nhostFromClusterNetwork: 'r:5000'\n${HOSTING}`;
    expect(kepField(text, "host")).toBe("localhost:5001");
    expect(kepField(text, "hostFromClusterNetwork")).toBe("r:5000");
    expect(kepField(HOSTING, "hostFromClusterNetwork")).toBe("kdev-doc-registry:5000");
    expect(kepField(HOSTING, "hostFromContainer")).toBeUndefined();
  });

  it.each([
    ["127.0.0.1", `http://127.0.0.1:${PORT}`],
    ["0.0.0.0", `http://127.0.0.1:${PORT}`],
    ["", `http://127.0.0.1:${PORT}`],
    ["::", `http://[::1]:${PORT}`],
    ["::1", `http://[::1]:${PORT}`],
    ["192.168.1.5", `http://192.168.1.5:${PORT}`],
  ])("published on %j: %s", (hostIp, url) => {
    expect(
      registryUrl(
        { ...REGISTRY, ports: [{ containerPort: "5000/tcp", hostIp, hostPort: PORT }] },
        PORT,
      ),
    ).toBe(url);
  });
});
