/**
 * The verdicts the recorded sessions (doctor.test.ts) do not reach, from recorded inputs through
 * the pure check functions. Expected values are written out.
 */
import { expect, it } from "vitest";
import {
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
  RECREATE_CLUSTER,
} from "../../../components/doctor/checks";
import type { CacheTarget, RegistryTarget } from "../../../components/doctor/environment";
import type { ExecResult } from "../../../components/exec";
import { failed, INSPECT, NETWORK, PORT, NOT_ON_PATH, ok, recorded } from "./recorded";

const { registry: REGISTRY, cache: CACHE } = INSPECT;

const registryTarget = (container = REGISTRY): RegistryTarget => ({
  name: "kdev-doc-registry",
  container,
  port: PORT,
  volume: "kdev-doc-registry-data",
  foundBy: `label, on network ${NETWORK}`,
});

const cacheTarget = (container = CACHE, name = "kdev-doc-cache-docker-io"): CacheTarget => ({
  name,
  container,
  upstreamHost: "docker.io",
  remoteUrl: "http://kdev-doc-upstream:5000",
  volume: `${name}-data`,
  foundBy: `label, on network ${NETWORK}`,
});

const withEnv = (env: Record<string, string>) =>
  cacheTarget({ ...CACHE, env: { ...CACHE.env, ...env } });
const upstream = (result: ExecResult, target = cacheTarget()) =>
  checkCacheUpstream(target, NETWORK, { node: "dev-control-plane", result });
const HOSTING = `host: "localhost:5001"
hostFromContainerRuntime: "localhost:5001"
hostFromClusterNetwork: "kind-registry:5000"
help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
`;
const PULL = "localhost:5001/kind-dev-doctor:probe";
const CRICTL_REFUSED = `E1122 06:40:00.000000 1 remote_image.go:180] "PullImage from image service failed"
time="2026-11-22T06:40:00Z" level=fatal msg="pulling image: failed to resolve reference: dial tcp [::1]:5001: connect: connection refused"
`;

it.each([
  [
    "docker missing",
    checkTool("docker", NOT_ON_PATH),
    "fail",
    "the docker CLI is not on PATH",
    "install Docker (https://docs.docker.com/engine/install/) and put docker on PATH",
  ],
  [
    "kind missing",
    checkTool("kind", NOT_ON_PATH),
    "fail",
    "the kind CLI is not on PATH",
    "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH",
  ],
  [
    "no cluster",
    checkCluster({ problem: "no kind cluster (kind get clusters lists none)", nodes: [] }),
    "fail",
    "no kind cluster (kind get clusters lists none)",
    `pulumi up (creates it; if the stack already has it: ${RECREATE_CLUSTER})`,
  ],
  [
    "several clusters",
    checkCluster({ problem: "several kind clusters (a, b) and none ...", nodes: [] }),
    "fail",
    "several kind clusters (a, b) and none ...",
    "npx kind-dev doctor --cluster <name>",
  ],
  [
    "registry removed with its volume",
    checkRunning("registry", { ...registryTarget(), container: undefined, foundBy: "--registry" }),
    "fail",
    "container kdev-doc-registry (found by --registry) does not exist, nor its volume kdev-doc-registry-data",
    "pulumi up --replace '<URN of the <env>-registry command, from pulumi stack --show-urns>' (an empty registry)",
  ],
  [
    "registry made by another tool",
    checkRegistryLabel({ ...REGISTRY, labels: {} }),
    "fail",
    "kdev-doc-registry lacks the label dev.pulumi-kind-dev.managed=true: another tool made it (kind's shell script?), and pulumi up will not adopt it",
    "docker rm -f kdev-doc-registry, then pulumi up (push its images again), or set registryName to another name",
  ],
  [
    "registry without a published port",
    checkRegistryPublished({ ...REGISTRY, ports: [] }),
    "fail",
    "kdev-doc-registry does not publish port 5000: nothing on the host can push to it",
    "docker rm -f kdev-doc-registry, then pulumi up (creates it again on its volume, published)",
  ],
  [
    "registry API refused",
    checkRegistryApi(REGISTRY, { url: `http://127.0.0.1:${PORT}/v2/`, error: "ECONNREFUSED" }),
    "fail",
    `GET http://127.0.0.1:${PORT}/v2/: ECONNREFUSED`,
    "docker logs kdev-doc-registry (and check what listens on the port: ss -ltnp)",
  ],
  [
    "registry API answers 404",
    checkRegistryApi(REGISTRY, { url: `http://127.0.0.1:${PORT}/v2/`, status: 404 }),
    "fail",
    `GET http://127.0.0.1:${PORT}/v2/ -> 404, expected 200 (another program on that port?)`,
    "docker logs kdev-doc-registry (and check what listens on the port: ss -ltnp)",
  ],
  [
    "cache removed, its volume kept",
    checkRunning("cache", { ...cacheTarget(), container: undefined }, true),
    "fail",
    `container kdev-doc-cache-docker-io (found by label, on network ${NETWORK}) does not exist; its volume kdev-doc-cache-docker-io-data is still there; nodes pull docker.io from http://kdev-doc-upstream:5000 directly meanwhile`,
    "pulumi up (creates kdev-doc-cache-docker-io again on kdev-doc-cache-docker-io-data)",
  ],
  [
    "upstream answers 401 (a registry that wants a token counts)",
    upstream(ok("401")),
    "pass",
    "GET http://kdev-doc-upstream:5000/v2/ -> 401, from dev-control-plane",
    "",
  ],
  [
    "upstream does not resolve",
    upstream(failed(6, "curl: (6) Could not resolve host: kdev-doc-upstream\n", "000")),
    "warn",
    `GET http://kdev-doc-upstream:5000/v2/ from dev-control-plane (network ${NETWORK}): curl: (6) Could not resolve host: kdev-doc-upstream; the cache serves what it holds, new images cannot be fetched`,
    "docker exec dev-control-plane curl -sS -o /dev/null -w '%{http_code}\\n' http://kdev-doc-upstream:5000/v2/ (then fix the network, proxy or credentials on the way)",
  ],
  [
    "upstream asks for a password login the cache lacks",
    upstream(ok('401 Basic realm="team"')),
    "fail",
    "kdev-doc-cache-docker-io has no login for http://kdev-doc-upstream:5000, which answers 401 and asks for one: pulls of docker.io images through it fail",
    "docker login kdev-doc-upstream:5000, then give the cache for docker.io credentialsFromDocker: true (or username and password) and run pulumi up",
  ],
  [
    "upstream asks for a login the cache has",
    upstream(ok('401 Basic realm="team"'), withEnv({ REGISTRY_PROXY_USERNAME: "alice" })),
    "pass",
    "GET http://kdev-doc-upstream:5000/v2/ -> 401 (a login), from dev-control-plane; the cache has one",
    "",
  ],
  [
    "upstream asks for a login the cache's credential helper gives",
    upstream(
      ok('401 Basic realm="team"'),
      withEnv({ REGISTRY_PROXY_EXEC_COMMAND: "/kind-dev/credential-helper" }),
    ),
    "pass",
    "GET http://kdev-doc-upstream:5000/v2/ -> 401 (a login), from dev-control-plane; the cache has a credential helper",
    "",
  ],
  // A token service (Docker Hub, ghcr.io) gives anonymous tokens: /v2/ alone cannot tell.
  [
    "upstream is a token service",
    upstream(ok('401 Bearer realm="https://auth.docker.io/token"')),
    "pass",
    "GET http://kdev-doc-upstream:5000/v2/ -> 401, from dev-control-plane",
    "",
  ],
  [
    "upstream not checked without a running node",
    checkCacheUpstream(cacheTarget(), NETWORK, {}),
    "warn",
    `not checked: no running node on network ${NETWORK} to probe http://kdev-doc-upstream:5000/v2/ from`,
    "pulumi up (the cluster's nodes are the probe's vantage point)",
  ],
  [
    "node NotReady",
    checkNodeReady("dev-worker", "dev", { ready: false, reason: "KubeletNotReady: x" }, undefined),
    "fail",
    "NotReady: KubeletNotReady: x",
    "kubectl --context kind-dev wait --for=condition=Ready node/dev-worker --timeout=120s (if it stays NotReady: kubectl --context kind-dev describe node dev-worker)",
  ],
  [
    "a name that does not resolve in a node",
    checkResolves("dev-worker", "kind-registry", undefined, "kind", []),
    "fail",
    "kind-registry does not resolve inside dev-worker",
    "docker network connect kind kind-registry",
  ],
  [
    "crictl pull refused",
    checkPull("dev-worker", "localhost:5001", { image: PULL, result: failed(1, CRICTL_REFUSED) }),
    "fail",
    `crictl pull ${PULL}: time="2026-11-22T06:40:00Z" level=fatal msg="pulling image: failed to resolve reference: dial tcp [::1]:5001: connect: connection refused"`,
    `docker exec dev-worker crictl pull ${PULL}`,
  ],
  [
    "a stale ConfigMap",
    checkConfigMap("dev", { value: HOSTING.replace(/5001/g, "5000") }, HOSTING),
    "fail",
    'does not match the registry: line 1 is "host: \\"localhost:5000\\"", expected "host: \\"localhost:5001\\""',
    "pulumi up --refresh (Pulumi notices it is gone or changed and writes it again)",
  ],
] as const)("%s", (_name, verdict, status, detail, remedy) => {
  expect(verdict).toMatchObject({ status, detail, remedy });
});

it("a registry stopped: --fix starts it", () => {
  const stopped = { ...REGISTRY, status: "exited", running: false, exitCode: 2 };
  expect(checkRunning("registry", registryTarget(stopped), true)).toEqual({
    id: "registry.running",
    title: "push registry container runs",
    status: "fail",
    detail: "kdev-doc-registry is exited (exit code 2)",
    remedy: "docker start kdev-doc-registry",
    dependsOn: ["docker"],
    fix: {
      description: "started kdev-doc-registry",
      argv: ["docker", "start", "kdev-doc-registry"],
    },
  });
});

it.each([
  ["127.0.0.1", "pass", `127.0.0.1:${PORT} -> 5000`],
  ["::1", "pass", `::1:${PORT} -> 5000`],
  [
    "0.0.0.0",
    "warn",
    `published on 0.0.0.0:${PORT}: any machine that reaches this one can push and pull`,
  ],
  ["", "warn", `published on 0.0.0.0:${PORT}: any machine that reaches this one can push and pull`],
])("registry published on %j: %s", (hostIp, status, detail) => {
  const c = { ...REGISTRY, ports: [{ containerPort: "5000/tcp", hostIp, hostPort: PORT }] };
  expect(checkRegistryPublished(c)).toMatchObject({ status, detail });
});

it("a cache restarting: the registry's own panic line from its log, no repair", () => {
  const log = recorded("cache-restarting.log.txt")
    .split("\n")
    .find((l) => l.startsWith("panic:"));
  const target = {
    ...cacheTarget(INSPECT.cacheRestarting, "kdev-doc-rec-cache-bad"),
    remoteUrl: "http://kdev-doc-nowhere:5000",
    upstreamHost: "ghcr.io",
  };
  expect(checkRunning("cache", target, true, log ?? "")).toEqual({
    id: "cache.running@kdev-doc-rec-cache-bad",
    title: "cache kdev-doc-rec-cache-bad runs",
    status: "fail",
    detail:
      'kdev-doc-rec-cache-bad is restarting (7 restarts): a registry in proxy mode exits at start while its upstream http://kdev-doc-nowhere:5000 does not answer (panic: Get "http://kdev-doc-nowhere:5000/v2/": dial tcp: lookup kdev-doc-nowhere on 127.0.0.11:53: no such host); nodes pull from the upstream directly meanwhile',
    remedy:
      "make http://kdev-doc-nowhere:5000 answer, then check: docker logs kdev-doc-rec-cache-bad",
    dependsOn: ["docker"],
  });
});
