/**
 * The verdicts the recorded sessions (doctor.test.ts) do not reach, from recorded inputs through
 * the pure check functions. Expected values are written out.
 */
import { describe, expect, it } from "vitest";
import {
  attributeCauses,
  checkCacheUpstream,
  checkCluster,
  checkConfigMap,
  checkNodeReady,
  checkPull,
  checkRegistryApi,
  checkRegistryLabel,
  checkRegistryPublished,
  checkResolves,
  checkRunning,
  checkTool,
  fixCommand,
  RECREATE_CLUSTER,
  type Verdict,
} from "../../../components/doctor/checks";
import type { CacheTarget, RegistryTarget } from "../../../components/doctor/environment";
import { failed, INSPECT, INSPECT_NETWORK as NETWORK, NOT_ON_PATH, ok, recorded } from "./recorded";

const { registry: REGISTRY, cache: CACHE } = INSPECT;

const registryTarget = (container = REGISTRY): RegistryTarget => ({
  name: "kdev-doc-rec-registry",
  container,
  port: 5093,
  volume: "kdev-doc-rec-registry-data",
  foundBy: `label, on network ${NETWORK}`,
});

const cacheTarget = (container = CACHE, name = "kdev-doc-rec-cache"): CacheTarget => ({
  name,
  container,
  upstreamHost: "docker.io",
  remoteUrl: "http://kdev-doc-exp-reg2:5000",
  volume: `${name}-data`,
  foundBy: `label, on network ${NETWORK}`,
});

describe("tools", () => {
  it.each([
    [
      "docker",
      NOT_ON_PATH,
      {
        title: "Docker answers",
        status: "fail",
        detail: "the docker CLI is not on PATH",
        remedy: "install Docker (https://docs.docker.com/engine/install/) and put docker on PATH",
      },
    ],
    [
      "docker",
      failed(
        1,
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
      ),
      {
        title: "Docker answers",
        status: "fail",
        detail:
          "the Docker daemon does not answer: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        remedy: "start Docker, then check with: docker info",
      },
    ],
    [
      "kind",
      NOT_ON_PATH,
      {
        status: "fail",
        detail: "the kind CLI is not on PATH",
        remedy:
          "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH",
      },
    ],
    [
      "kubectl",
      NOT_ON_PATH,
      {
        status: "warn",
        detail:
          "kubectl is not on PATH; the doctor read the cluster with the control plane's own kubectl",
        remedy:
          "install kubectl (https://kubernetes.io/docs/tasks/tools/) to use the cluster from the host",
      },
    ],
  ] as const)("%s %#", (tool, r, expected) => {
    expect(checkTool(tool, r)).toMatchObject({ id: tool, ...expected });
  });
});

describe("cluster", () => {
  it("fails without a cluster, and asks for --cluster when several could be meant", () => {
    expect(
      checkCluster({ problem: "no kind cluster (kind get clusters lists none)", nodes: [] }),
    ).toMatchObject({
      status: "fail",
      detail: "no kind cluster (kind get clusters lists none)",
      remedy: `pulumi up (creates it; if the stack already has it: ${RECREATE_CLUSTER})`,
    });
    expect(
      checkCluster({
        problem:
          "several kind clusters (a, b) and none with a pulumi-kind-dev registry on its network: choose one with --cluster",
        nodes: [],
      }).remedy,
    ).toBe("npx kind-dev doctor --cluster <name>");
  });
});

describe("registry", () => {
  it("stopped: fails, and --fix starts it", () => {
    expect(checkRunning("registry", registryTarget(INSPECT.registryStopped), true, "")).toEqual({
      id: "registry.running",
      title: "push registry container runs",
      status: "fail",
      detail: "kdev-doc-rec-registry is exited (exit code 2)",
      remedy: "docker start kdev-doc-rec-registry",
      dependsOn: ["docker"],
      fix: {
        description: "started kdev-doc-rec-registry",
        argv: ["docker", "start", "kdev-doc-rec-registry"],
      },
    });
  });

  it("removed by hand with its volume: pulumi up --replace", () => {
    const gone = { ...registryTarget(), container: undefined, foundBy: "--registry" };
    expect(checkRunning("registry", gone, false, "")).toMatchObject({
      detail:
        "container kdev-doc-rec-registry (found by --registry) does not exist, nor its volume kdev-doc-rec-registry-data",
      remedy:
        "pulumi up --replace '<URN of the <env>-registry command, from pulumi stack --show-urns>' (an empty registry)",
    });
  });

  it("label: fails for a registry another tool made", () => {
    const foreign = { ...REGISTRY, labels: {} };
    expect(checkRegistryLabel(foreign)).toMatchObject({
      status: "fail",
      detail:
        "kdev-doc-rec-registry lacks the label dev.pulumi-kind-dev.managed=true: another tool made it (kind's shell script?), and pulumi up will not adopt it",
      remedy:
        "docker rm -f kdev-doc-rec-registry, then pulumi up (push its images again), or set registryName to another name",
    });
  });

  it.each([
    ["127.0.0.1", "pass", "127.0.0.1:5093 -> 5000"],
    ["::1", "pass", "::1:5093 -> 5000"],
    [
      "0.0.0.0",
      "warn",
      "published on 0.0.0.0:5093: any machine that reaches this one can push and pull",
    ],
    ["", "warn", "published on 0.0.0.0:5093: any machine that reaches this one can push and pull"],
  ])("published on %j: %s", (hostIp, status, detail) => {
    const c = { ...REGISTRY, ports: [{ containerPort: "5000/tcp", hostIp, hostPort: 5093 }] };
    expect(checkRegistryPublished(c)).toMatchObject({ status, detail });
  });

  it("published: one without a port fails", () => {
    expect(checkRegistryPublished({ ...REGISTRY, ports: [] })).toMatchObject({
      status: "fail",
      detail:
        "kdev-doc-rec-registry does not publish port 5000: nothing on the host can push to it",
    });
  });

  it.each([
    [{ error: "ECONNREFUSED" }, "fail", "GET http://127.0.0.1:5093/v2/: ECONNREFUSED"],
    [
      { status: 404 },
      "fail",
      "GET http://127.0.0.1:5093/v2/ -> 404, expected 200 (another program on that port?)",
    ],
  ])("api %#", (probe, status, detail) => {
    const url = "http://127.0.0.1:5093/v2/";
    expect(checkRegistryApi(REGISTRY, { url, ...probe })).toMatchObject({ status, detail });
  });
});

describe("caches", () => {
  it("restarting: fails with the registry's own panic line from its log", () => {
    const log = recorded("cache-restarting.log.txt")
      .split("\n")
      .find((l) => l.startsWith("panic:"));
    const v = checkRunning(
      "cache",
      {
        ...cacheTarget(INSPECT.cacheRestarting, "kdev-doc-rec-cache-bad"),
        remoteUrl: "http://kdev-doc-nowhere:5000",
        upstreamHost: "ghcr.io",
      },
      true,
      log ?? "",
    );
    expect(v).toMatchObject({
      status: "fail",
      detail:
        'kdev-doc-rec-cache-bad is restarting (7 restarts): a registry in proxy mode exits at start while its upstream http://kdev-doc-nowhere:5000 does not answer (panic: Get "http://kdev-doc-nowhere:5000/v2/": dial tcp: lookup kdev-doc-nowhere on 127.0.0.11:53: no such host); nodes pull from the upstream directly meanwhile',
      remedy:
        "make http://kdev-doc-nowhere:5000 answer, then check: docker logs kdev-doc-rec-cache-bad",
    });
    expect(v.fix).toBeUndefined();
  });

  it("gone: pulumi up", () => {
    expect(
      checkRunning("cache", { ...cacheTarget(), container: undefined }, true, ""),
    ).toMatchObject({
      status: "fail",
      remedy: "pulumi up (creates kdev-doc-rec-cache again on kdev-doc-rec-cache-data)",
    });
  });

  const withEnv = (env: Record<string, string>) =>
    cacheTarget({ ...CACHE, env: { ...CACHE.env, ...env } });
  it.each([
    [
      "answers (401 from a registry that wants a token counts)",
      ok("401"),
      cacheTarget(),
      {
        status: "pass",
        detail: "GET http://kdev-doc-exp-reg2:5000/v2/ -> 401, from dev-control-plane",
      },
    ],
    [
      "does not resolve",
      failed(6, "curl: (6) Could not resolve host: kdev-doc-exp-reg2\n", "000"),
      cacheTarget(),
      {
        status: "warn",
        detail: `GET http://kdev-doc-exp-reg2:5000/v2/ from dev-control-plane (network ${NETWORK}): curl: (6) Could not resolve host: kdev-doc-exp-reg2; the cache serves what it holds, new images cannot be fetched`,
      },
    ],
    [
      "asks for a password login the cache lacks",
      ok('401 Basic realm="team"'),
      cacheTarget(),
      {
        status: "fail",
        detail:
          "kdev-doc-rec-cache has no login for http://kdev-doc-exp-reg2:5000, which answers 401 and asks for one: pulls of docker.io images through it fail",
        remedy:
          "docker login kdev-doc-exp-reg2:5000, then give the cache for docker.io credentialsFromDocker: true (or username and password) and run pulumi up",
      },
    ],
    [
      "asks for a login the cache has",
      ok('401 Basic realm="team"'),
      withEnv({ REGISTRY_PROXY_USERNAME: "alice", REGISTRY_PROXY_PASSWORD: "pw" }),
      {
        status: "pass",
        detail:
          "GET http://kdev-doc-exp-reg2:5000/v2/ -> 401 (a login), from dev-control-plane; the cache has one",
      },
    ],
    [
      "asks for a login the cache's credential helper gives",
      ok('401 Basic realm="team"'),
      withEnv({ REGISTRY_PROXY_EXEC_COMMAND: "/kind-dev/credential-helper" }),
      {
        status: "pass",
        detail:
          "GET http://kdev-doc-exp-reg2:5000/v2/ -> 401 (a login), from dev-control-plane; the cache has a credential helper",
      },
    ],
    // A token service (Docker Hub, ghcr.io) gives anonymous tokens: /v2/ alone cannot tell.
    [
      "is a token service",
      ok('401 Bearer realm="https://auth.docker.io/token"'),
      cacheTarget(),
      { status: "pass" },
    ],
  ])("upstream %s", (_name, result, target, expected) => {
    expect(
      checkCacheUpstream(target, NETWORK, { node: "dev-control-plane", result }),
    ).toMatchObject(expected);
  });

  it("upstream: not checked without a running node", () => {
    expect(checkCacheUpstream(cacheTarget(), NETWORK, {})).toMatchObject({
      status: "warn",
      detail: `not checked: no running node on network ${NETWORK} to probe http://kdev-doc-exp-reg2:5000/v2/ from`,
    });
  });
});

describe("nodes", () => {
  it("NotReady: the kubelet's reason, and how to wait for it", () => {
    expect(
      checkNodeReady(
        "dev-worker",
        "dev",
        { ready: false, reason: "KubeletNotReady: container runtime is down" },
        undefined,
      ),
    ).toMatchObject({
      status: "fail",
      detail: "NotReady: KubeletNotReady: container runtime is down",
      remedy:
        "kubectl --context kind-dev wait --for=condition=Ready node/dev-worker --timeout=120s (if it stays NotReady: kubectl --context kind-dev describe node dev-worker)",
    });
  });

  it("resolves: names the connect command when a name does not resolve", () => {
    expect(checkResolves("dev-worker", "kind-registry", undefined, "kind", [])).toMatchObject({
      status: "fail",
      detail: "kind-registry does not resolve inside dev-worker",
      remedy: "docker network connect kind kind-registry",
    });
  });

  it("pull: passes, fails with crictl's error, or is not checked without the probe image", () => {
    const image = "localhost:5001/kind-dev-doctor:probe";
    const pull = (result: ReturnType<typeof ok>, seconds?: number) =>
      checkPull("dev-worker", "localhost:5001", { image, result, ...(seconds ? { seconds } : {}) });
    expect(pull(ok("Image is up to date for sha256:1\n"), 0.31)).toMatchObject({
      status: "pass",
      detail: "crictl pull localhost:5001/kind-dev-doctor:probe in 0.3 s",
    });
    const refused = failed(
      1,
      'E1122 06:40:00.000000 1 remote_image.go:180] "PullImage from image service failed"\ntime="2026-11-22T06:40:00Z" level=fatal msg="pulling image: failed to resolve reference: dial tcp [::1]:5001: connect: connection refused"\n',
    );
    expect(pull(refused)).toMatchObject({
      status: "fail",
      detail:
        'crictl pull localhost:5001/kind-dev-doctor:probe: time="2026-11-22T06:40:00Z" level=fatal msg="pulling image: failed to resolve reference: dial tcp [::1]:5001: connect: connection refused"',
      remedy: "docker exec dev-worker crictl pull localhost:5001/kind-dev-doctor:probe",
      dependsOn: [
        "node.running@dev-worker",
        "registry.running",
        "registry.network",
        "registry.api",
        "node.containerd@dev-worker",
        "node.hosts-toml@dev-worker/localhost:5001",
      ],
    });
  });
});

describe("ConfigMap", () => {
  const expected = `host: "localhost:5001"
hostFromContainerRuntime: "localhost:5001"
hostFromClusterNetwork: "kind-registry:5000"
help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
`;
  it("stale: pulumi up --refresh", () => {
    const remedy = "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)";
    expect(
      checkConfigMap("dev", { value: expected.replace(/5001/g, "5000") }, expected),
    ).toMatchObject({
      status: "fail",
      detail:
        'does not match the registry: line 1 is "host: \\"localhost:5000\\"", expected "host: \\"localhost:5001\\""',
      remedy,
    });
  });
});

describe("attributeCauses", () => {
  const v = (id: string, status: Verdict["status"], dependsOn: string[] = []): Verdict => ({
    id,
    title: id,
    status,
    detail: `${id} detail`,
    remedy: `${id} remedy`,
    dependsOn,
  });

  it("ties a failure to the root of the failures it depends on, and repeats its remedy", () => {
    const results = attributeCauses([
      v("registry.running", "pass"),
      v("registry.network", "fail", ["registry.running"]),
      v("node.resolve@w/kind-registry", "fail", ["registry.network"]),
      v("node.pull@w", "fail", ["node.resolve@w/kind-registry", "registry.api"]),
      v("registry.api", "warn", ["registry.network"]),
      v("configmap", "fail", ["registry.running"]),
    ]);
    expect(results.map((r) => [r.id, r.causedBy, r.remedy])).toEqual([
      ["registry.running", undefined, "registry.running remedy"],
      ["registry.network", undefined, "registry.network remedy"],
      ["node.resolve@w/kind-registry", "registry.network", "registry.network remedy"],
      ["node.pull@w", "registry.network", "registry.network remedy"],
      ["registry.api", "registry.network", "registry.network remedy"],
      ["configmap", undefined, "configmap remedy"],
    ]);
    expect(Object.keys(results[0] ?? {})).toEqual(["id", "title", "status", "detail", "remedy"]);
  });
});

describe("remedies as commands", () => {
  it("quotes only what a shell would split", () => {
    expect(fixCommand({ cluster: "dev", kubeconfig: "/tmp/my config" })).toBe(
      "npx kind-dev doctor --fix --cluster dev --kubeconfig '/tmp/my config'",
    );
  });
});
