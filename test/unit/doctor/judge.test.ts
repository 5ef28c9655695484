/**
 * judge() from JSON facts: the facts the doctor gathered on a recorded session, through
 * JSON.stringify and back, then changed the way a fault would change them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Verdict } from "../../../components/doctor/checks";
import { attributeCauses, fixCommand, judge } from "../../../components/doctor/judge";
import { type Facts, gather } from "../../../components/doctor/facts";
import { CACHE, CLUSTER, NETWORK, PORT, REGISTRY, replay, rootFaults, WORKER } from "./recorded";

async function recordedFacts(fault?: string): Promise<Facts> {
  const r = replay(fault);
  return gather({ cluster: CLUSTER, kubeconfig: "KUBECONFIG" }, r.exec, r.registryClient);
}

/** The healthy session's facts as JSON text, parsed again: a fresh copy for each test. */
let healthyJson: string;
beforeAll(async () => {
  healthyJson = JSON.stringify(await recordedFacts());
});
const healthy = (): Facts & { found: NonNullable<Facts["found"]> } => JSON.parse(healthyJson);
const roots = (facts: Facts) =>
  rootFaults(attributeCauses(judge(facts))).map((r) => [r.id, r.detail, r.remedy]);

describe("judge", () => {
  it("judges the facts as plain JSON: nothing is lost on the way, every check passes", async () => {
    // One gathering, so that the pull probes' measured seconds are the same on both sides.
    const facts = await recordedFacts();
    const copy: Facts = JSON.parse(JSON.stringify(facts));
    expect(copy).toStrictEqual(facts);
    expect(judge(copy)).toEqual(judge(facts));
  });

  it("Docker down: the tools are judged, nothing else", () => {
    const facts: Facts = JSON.parse(`{
      "requested": {},
      "tools": {
        "docker": { "code": 1, "stdout": "", "stderr": "Cannot connect to the Docker daemon\\n", "missing": false, "timedOut": false },
        "kind": { "code": 0, "stdout": "kind v0.30.0 go1.24.6 linux/amd64\\n", "stderr": "", "missing": false, "timedOut": false },
        "kubectl": { "code": -1, "stdout": "", "stderr": "", "missing": true, "timedOut": false }
      }
    }`);
    expect(judge(facts).map((v) => [v.id, v.status, v.detail, v.remedy])).toEqual([
      [
        "docker",
        "fail",
        "the Docker daemon does not answer: Cannot connect to the Docker daemon",
        "start Docker, then check with: docker info",
      ],
      ["kind", "pass", "kind v0.30.0", ""],
      [
        "kubectl",
        "warn",
        "kubectl is not on PATH; the doctor read the cluster with the control plane's own kubectl",
        "install kubectl (https://kubernetes.io/docs/tasks/tools/) to use the cluster from the host",
      ],
    ]);
  });

  it("a stale hosts.toml on one node: that file is the one fault", () => {
    const facts = healthy();
    const files = facts.found.nodeFiles[WORKER]?.hostsToml as Record<string, string>;
    files["docker.io"] =
      files["docker.io"]?.replace(/^server = .*/, 'server = "https://x.io"') ?? "";
    expect(roots(facts)).toEqual([
      [
        `node.hosts-toml@${WORKER}/docker.io`,
        `stale /etc/containerd/certs.d/docker.io/hosts.toml: line 1 is "server = \\"https://x.io\\"", expected "server = \\"http://kdev-doc-upstream:5000\\""`,
        `npx kind-dev doctor --fix --cluster ${CLUSTER} --kubeconfig KUBECONFIG (writes the file the component renders)`,
      ],
    ]);
    const stale = judge(facts).find((v) => v.id === `node.hosts-toml@${WORKER}/docker.io`);
    expect(stale?.fix?.description).toBe(
      `rewrote /etc/containerd/certs.d/docker.io/hosts.toml on ${WORKER}`,
    );
  });

  it("no registry container and nothing that names one: the registry's files are not judged", () => {
    const facts = healthy();
    const found = facts.found as { -readonly [K in keyof typeof facts.found]: unknown };
    found.containers = facts.found.containers.filter((c) => c.name !== REGISTRY);
    found.configMap = {};
    for (const files of Object.values(facts.found.nodeFiles)) {
      const hosts = files.hostsToml as Record<string, string>;
      delete hosts[`localhost:${PORT}`];
      delete hosts[`${REGISTRY}:5000`];
    }
    const results = attributeCauses(judge(facts));
    expect(roots(facts)).toEqual([
      [
        "registry.running",
        `no push registry found: no container labelled dev.pulumi-kind-dev.managed=true and role registry on network ${NETWORK}, and no ConfigMap or hosts.toml names one`,
        "pulumi up (or name it: npx kind-dev doctor --registry <container>)",
      ],
    ]);
    expect(results.filter((r) => r.causedBy === "registry.running").map((r) => r.id)).toEqual([
      "configmap",
    ]);
    const ids = results.map((r) => r.id).join(" ");
    expect(ids).not.toContain(`localhost:${PORT}`);
    expect(ids).not.toContain(REGISTRY);
  });

  it("names the component could not have made: said once, with a way to narrow", () => {
    const facts = { ...healthy(), requested: { cluster: CLUSTER, registry: "Bad_Name" } };
    expect(roots(facts)[0]).toEqual([
      "expected",
      `the registry and caches found are not ones the component makes: KindDevEnvironment: invalid registryName "Bad_Name": must be a DNS label of 1-63 characters: lowercase letters, digits and '-', starting and ending with a letter or digit`,
      "npx kind-dev doctor --registry <container> --cluster <name>",
    ]);
  });

  it("docker cannot tell the volumes' sizes: each volume is a warning", () => {
    const facts = healthy();
    (facts.found as { volumes: unknown }).volumes = null;
    expect(
      judge(facts)
        .filter((v) => v.status !== "pass")
        .map((v) => [v.id, v.status, v.detail]),
    ).toEqual([
      [`volume@${REGISTRY}-data`, "warn", `registry ${REGISTRY}: size unknown`],
      [`volume@${CACHE}-data`, "warn", `cache ${CACHE}: size unknown`],
    ]);
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
