import { describe, expect, it } from "vitest";
import {
  checkContainerd,
  checkHostsToml,
  RECREATE_CLUSTER,
} from "../../../components/doctor/checks";
import {
  formatBytes,
  parseContainerdConfig,
  parseContainers,
  parseGetent,
  parseHumanSize,
  parseKindVersion,
  parseLines,
  tellingLine,
} from "../../../components/doctor/parse";
import { healthyOutput, recorded, WORKER } from "./recorded";

/** /etc/containerd/config.toml of a node of the test bed's cluster, patched by the component. */
const NODE_CONFIG = healthyOutput(WORKER, "/etc/containerd/config.toml");
/** kind's base image config, before any patch: no config_path. */
const KIND_BASE_CONFIG = recorded("kind-base-containerd-config.toml");

const MIRROR_TOML =
  'server = "http://kdev-doc-upstream:5000"\n\n[host."http://kdev-doc-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n';

describe("parseContainerdConfig", () => {
  const CERTS_D = ["/etc/containerd/certs.d"];
  it.each([
    ["the component's single config_path on a real node", NODE_CONFIG, CERTS_D, []],
    ["none in kind's base config", KIND_BASE_CONFIG, [], []],
    [
      "legacy mirrors and configs as tables",
      `${NODE_CONFIG}
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001"]
  endpoint = ["http://kind-registry:5000"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."kind-registry:5000".tls]
  insecure_skip_verify = true
`,
      CERTS_D,
      [
        'plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001"',
        'plugins."io.containerd.grpc.v1.cri".registry.configs."kind-registry:5000".tls',
      ],
    ],
    [
      "legacy mirrors as an inline key",
      "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = '/etc/containerd/certs.d'\n  mirrors = {}\n",
      CERTS_D,
      ['plugins."io.containerd.grpc.v1.cri".registry.mirrors'],
    ],
    ["nothing in comments", '# config_path = "/x"\n#[a.registry.mirrors]\n', [], []],
  ])("finds %s", (_name, text, configPaths, legacy) => {
    expect(parseContainerdConfig(text)).toEqual({ configPaths, legacy });
  });
});

describe("checkContainerd", () => {
  it.each([
    [
      "kind's base config (no patch)",
      KIND_BASE_CONFIG,
      "fail",
      "no config_path: containerd 2.0/2.1 ignore /etc/containerd/certs.d/*/hosts.toml (containerd 2.2+ read it by default)",
    ],
    [
      "legacy mirrors next to config_path",
      `${NODE_CONFIG}[plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001"]\n  endpoint = ["http://kind-registry:5000"]\n`,
      "fail",
      'legacy plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001" next to config_path: containerd 2.2 fails to load its CRI plugin with both, and 2.4 removes them',
    ],
    [
      "two config_path settings",
      `${NODE_CONFIG}[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "/etc/docker/certs.d"\n`,
      "fail",
      '2 config_path settings ("/etc/containerd/certs.d", "/etc/docker/certs.d"): which one wins depends on the containerd version',
    ],
    [
      "several directories",
      '[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n',
      "warn",
      'config_path = "/etc/containerd/certs.d:/etc/docker/certs.d": several directories, a hosts.toml in another one may take precedence',
    ],
    [
      "another directory",
      '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/docker/certs.d"\n',
      "fail",
      'config_path = "/etc/docker/certs.d": the hosts.toml files in /etc/containerd/certs.d are ignored',
    ],
  ])("%s: %s", (_name, text, status, detail) => {
    const v = checkContainerd("dev-worker", parseContainerdConfig(text));
    expect(v).toMatchObject({ id: "node.containerd@dev-worker", status, detail });
    expect(v.remedy.startsWith(status === "pass" ? "" : RECREATE_CLUSTER)).toBe(true);
  });

  it("fails when the file cannot be read", () => {
    expect(checkContainerd("dev-worker", undefined)).toMatchObject({
      status: "fail",
      detail: "could not read /etc/containerd/config.toml",
      remedy: "docker exec dev-worker cat /etc/containerd/config.toml",
    });
  });
});

describe("checkHostsToml", () => {
  it("offers no repair while the doctor does not know every file of the node", () => {
    const v = checkHostsToml("kdev-doc-worker", "docker.io", MIRROR_TOML, undefined, "x");
    expect(v.fix).toBeUndefined();
    expect(v.remedy).toBe("pulumi up (writes every hosts.toml the component renders)");
  });
});

describe("small readers", () => {
  it("getent hosts: name -> address", () => {
    expect(
      parseGetent(
        "192.168.80.3    kdev-doc-registry\n192.168.80.4    kdev-doc-cache-docker-io\n192.168.80.9    kdev-doc-registry\n",
      ),
    ).toEqual({ "kdev-doc-registry": "192.168.80.3", "kdev-doc-cache-docker-io": "192.168.80.4" });
    expect(parseGetent("")).toEqual({});
  });

  it("kind's outputs", () => {
    expect(parseKindVersion("kind v0.33.0 go1.25.4 linux/amd64\n")).toBe("v0.33.0");
    expect(parseLines("kdev-doc\nkdev-e2e\n")).toEqual(["kdev-doc", "kdev-e2e"]);
    expect(parseLines("No kind clusters found.\n")).toEqual([]);
  });

  it("docker inspect prints nothing for names that do not exist", () => {
    expect(parseContainers("[]\n")).toEqual([]);
    expect(parseContainers("")).toEqual([]);
    expect(() => parseContainers("{}")).toThrow(
      "docker container inspect printed {}, not a JSON array",
    );
  });

  it.each([
    ["0B", 0],
    ["836B", 836],
    ["1.5kB", 1500],
    ["57.38MB", 57_380_000],
    ["1.234GB", 1_234_000_000],
    ["N/A", undefined],
  ])("docker size %s is %s bytes", (text, bytes) => {
    expect(parseHumanSize(text)).toBe(bytes);
  });

  it.each([
    [0, "0 B"],
    [836, "836 B"],
    [57_380_000, "57.4 MB"],
    [123_456_789, "123 MB"],
    [2_500_000_000, "2.5 GB"],
  ])("formatBytes(%s) = %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("a crashed registry's log: the panic line, not the stack trace after it", () => {
    expect(tellingLine(recorded("cache-restarting.log.txt"))).toBe(
      'panic: Get "http://kdev-doc-nowhere:5000/v2/": dial tcp: lookup kdev-doc-nowhere on 127.0.0.11:53: no such host',
    );
    expect(tellingLine('level=info msg="a"\nlevel=error msg="b"\nlevel=info msg="c"\n')).toBe(
      'level=error msg="b"',
    );
  });
});
