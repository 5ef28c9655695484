/**
 * Integration test 4: the component's containerd configuration on every containerd minor that
 * kind's node images ship (2.0 to 2.3, kind v0.27 to v0.33) and on 2.4, which no kind release
 * ships yet (started from kind v0.33's config). test/bed/containerd-matrix.sh builds one node
 * stand-in per version: that containerd, built from Go modules as kind builds it, started from the
 * kind release's own config.toml. Each node gets the component's CONTAINERD_CONFIG_PATCH
 * (as kind applies containerdConfigPatches) and the component's hosts.toml files, written by the
 * command the component runs on each node (hostsScript); the push registry and a pull-through
 * cache are started by the component's ensure script, the cache in front of a local registry
 * standing in for Docker Hub. For each version: the CRI plugins load, the effective config has the single
 * config_path and nothing legacy, and pulls through the CRI (as the kubelet pulls) work via
 * `localhost:<port>`, via `<registryName>:5000` and, for Docker Hub images, via the cache only.
 */
import { planHostsFiles } from "../../components/render/hostsToml";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parse as parseToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedConfig } from "../../components/config";
import { CERTS_D, CONTAINERD_CONFIG_PATCH } from "../../components/render/containerd";
import { hostsScript } from "../../components/scripts";
import {
  BED_DIR,
  bedEnv,
  bedSuite,
  catalog,
  criPull,
  describeDocker,
  docker,
  dockerResult,
  ensureRegistryContainerOk,
  logsOf,
  pushTestImage,
  runAsync,
  runScriptOk,
  startNodeStandin,
  startUpstream,
  waitForHttpOk,
} from "./helpers";

const MATRIX_SCRIPT = path.join(BED_DIR, "containerd-matrix.sh");

interface MatrixRow {
  /** The kind release whose node images ship this containerd (whose config it starts from). */
  readonly kind: string;
  readonly containerd: string;
  /** The node stand-in with that containerd. */
  readonly image: string;
}

/** Space-separated containerd versions to test, e.g. `v2.3.4`; default: all of the matrix. */
const ONLY = (process.env["KIND_DEV_CONTAINERD_VERSIONS"] ?? "").split(" ").filter((v) => v !== "");

/** The versions as the bed script lists them (its table is the one source). */
const MATRIX: readonly MatrixRow[] = execFileSync("bash", [MATRIX_SCRIPT, "--list"], {
  env: bedEnv(),
  encoding: "utf8",
})
  .trim()
  .split("\n")
  .map((line) => {
    const [kind, containerd, image] = line.split(" ");
    if (kind === undefined || containerd === undefined || image === undefined) {
      throw new Error(`unexpected line from containerd-matrix.sh --list: ${line}`);
    }
    return { kind, containerd, image };
  })
  .filter((row) => ONLY.length === 0 || ONLY.includes(row.containerd));
if (MATRIX.length === 0) {
  throw new Error(`KIND_DEV_CONTAINERD_VERSIONS=${ONLY.join(" ")} names no version of the matrix`);
}

function minorOf(containerd: string): number {
  const minor = /^v2\.(\d+)\./.exec(containerd)?.[1];
  if (minor === undefined) {
    throw new Error(`not a containerd 2.x version: ${containerd}`);
  }
  return Number(minor);
}

/**
 * Whether containerd's own default CRI `config_path`, which kind's config.toml leaves in place,
 * includes certs.d. 2.2 made `/etc/containerd/certs.d:/etc/docker/certs.d` the default (2.2.0 in
 * its config defaults; 2.3 sets it when the images plugin starts, if no mirrors are configured,
 * so `config dump` shows it empty there); 2.0 and 2.1 have none, and read no hosts.toml.
 */
function readsCertsDByDefault(containerd: string): boolean {
  return minorOf(containerd) >= 2;
}

/**
 * The `containerd config` subcommand that prints the configuration the daemon runs with. kind's
 * config.toml is `version = 2`, which the daemon migrates to version 3 (the CRI registry settings
 * move to the `io.containerd.cri.v1.images` plugin). containerd 2.0's `config dump` skips that
 * migration and shows that plugin's defaults (`config_path = ''`) whatever the file says; its
 * `config migrate` applies it. From 2.1 on, `dump` and `migrate` are the same command.
 */
function effectiveConfigCommand(containerd: string): string {
  return minorOf(containerd) === 0 ? "migrate" : "dump";
}

const IMAGES_CONFIG_PATH = "plugins.io.containerd.cri.v1.images.registry.config_path";

type Toml = Record<string, unknown>;

function isTable(value: unknown): value is Toml {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every key named `key` anywhere in a TOML document, as dotted path -> value. */
function findKeys(doc: Toml, key: string, prefix = ""): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const p = prefix === "" ? k : `${prefix}.${k}`;
    if (k === key) {
      found[p] = v;
    }
    if (isTable(v)) {
      Object.assign(found, findKeys(v, key, p));
    }
  }
  return found;
}

/** `ctr plugins ls` as rows; the columns are TYPE ID PLATFORMS STATUS (PLATFORMS may be "-"). */
function parsePlugins(out: string): { type: string; id: string; status: string }[] {
  return out
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .map((cols) => ({ type: cols[0] ?? "", id: cols[1] ?? "", status: cols.at(-1) ?? "" }));
}

/**
 * The request URIs in a registry container's log that containerd `version` asked for (logrus
 * quotes a value only when it has special characters, so both forms are read).
 */
async function requestsBy(container: string, version: string): Promise<string[]> {
  const agent = `http.request.useragent=containerd/${version} `;
  const quotedAgent = `http.request.useragent="containerd/${version}"`;
  const uri = /\bhttp\.request\.uri=(?:"([^"]*)"|(\S+))/;
  return (await logsOf(container))
    .split("\n")
    .filter((l) => `${l} `.includes(agent) || l.includes(quotedAgent))
    .map((l) => {
      const m = uri.exec(l);
      return m?.[1] ?? m?.[2] ?? "";
    });
}

describeDocker(
  `the component's containerd configuration on containerd ${MATRIX.map((m) => m.containerd).join(", ")}`,
  () => {
    const suite = bedSuite(3);
    const { id, res, network } = suite;
    const upstream = `kdt-up-${id}`;
    const cacheName = `kdt-cache-${id}`;
    const repo = `kdt-testimg-${id}`;
    let config: ResolvedConfig;
    let cachePort: number;
    /** The same image by the push registry's two names. */
    let viaLocalhost: string;
    let viaClusterName: string;

    beforeAll(async () => {
      // Fast when the bed is built; cold, it builds containerd (tens of minutes on 2 cores).
      const built = await runAsync("bash", [MATRIX_SCRIPT, ...MATRIX.map((m) => m.containerd)], {
        timeoutMs: 3_600_000,
      });
      if (built.code !== 0) {
        throw new Error(`test/bed/containerd-matrix.sh exited ${built.code}:\n${built.stderr}`);
      }

      cachePort = suite.port(2);
      config = suite.cacheConfig(
        upstream,
        { containerName: cacheName, hostPort: cachePort },
        // One node per version, named as kind names them.
        { workers: MATRIX.length - 1, registryPort: suite.port(0) },
      );
      const { registry } = config;
      res.container(registry.spec.name);
      res.volume(registry.spec.volume);
      await ensureRegistryContainerOk(registry.spec, { probeUrl: registry.probeUrl });
      viaLocalhost = res.image(`${registry.host}/kdt/testimg:1`);
      viaClusterName = `${registry.hostFromClusterNetwork}/kdt/testimg:1`;
      await pushTestImage(viaLocalhost);

      await startUpstream(res, upstream, network, suite.port(1), `library/${repo}`, id);
      const cache = config.caches[0]!.spec;
      res.container(cache.name);
      res.volume(cache.volume);
      await ensureRegistryContainerOk(cache);
      await waitForHttpOk(`http://127.0.0.1:${cachePort}/v2/`);
    }, 3_700_000);

    it("plans hosts.toml files for both names of the push registry and for docker.io", () => {
      expect(planHostsFiles(config).map((f) => f.hostDir)).toEqual([
        config.registry.host,
        config.registry.hostFromClusterNetwork,
        "docker.io",
      ]);
      expect(config.nodes).toHaveLength(MATRIX.length);
    });

    describe.each(
      MATRIX.map((row, index) => [row.containerd, row.kind, row.image, index] as const),
    )("containerd %s (kind %s)", (containerd, _kind, image, index) => {
      let node: string;

      beforeAll(async () => {
        const plan = config.nodes[index];
        if (plan === undefined) {
          throw new Error(`no node planned for index ${index}`);
        }
        node = plan.name;
        await startNodeStandin(res, node, network, CONTAINERD_CONFIG_PATCH, id, image);
      });

      afterAll(async () => {
        // Nodes are not shared: free the memory before the next version starts.
        if (node !== undefined) {
          await dockerResult(["rm", "-f", "-v", node]);
        }
      });

      it("the node runs that containerd, not the stand-in's Debian one", async () => {
        const version = await docker(["exec", node, "cri-pull", "version"]);
        expect(version).toMatch(new RegExp(`^containerd ${containerd.replace(/\./g, "\\.")} `));
      });

      it("the CRI plugins load: ctr plugins ls shows them ok, Status and RuntimeConfig answer", async () => {
        const plugins = parsePlugins(await docker(["exec", node, "ctr", "plugins", "ls"]));
        const cri = plugins.filter(
          (p) => p.type.startsWith("io.containerd.cri.") || p.id === "cri",
        );
        expect(cri.map((p) => `${p.type} ${p.id}`).sort()).toEqual([
          "io.containerd.cri.v1 images",
          "io.containerd.cri.v1 runtime",
          "io.containerd.grpc.v1 cri",
        ]);
        expect(cri.map((p) => p.status)).toEqual(["ok", "ok", "ok"]);
        // containerd records a deprecation warning for each legacy registry setting it reads.
        const deprecations = await docker(["exec", node, "ctr", "deprecations", "list"]);
        expect(deprecations).not.toContain("io.containerd.deprecation/cri-registry");

        const status = JSON.parse(await docker(["exec", node, "cri-pull", "status"])) as {
          conditions: { type: string; status: boolean; reason: string }[];
        };
        expect(status.conditions.find((c) => c.type === "RuntimeReady")?.status).toBe(true);
        // No CNI in a stand-in: the network condition is reported, and not ready.
        expect(status.conditions.find((c) => c.type === "NetworkReady")?.status).toBe(false);

        // kind's config.toml sets SystemdCgroup = true: its config is the one in effect.
        const runtimeConfig = JSON.parse(
          await docker(["exec", node, "cri-pull", "runtime-config"]),
        ) as { cgroupDriver: string };
        expect(runtimeConfig.cgroupDriver).toBe("SYSTEMD");
      });

      it("the effective config: the CRI config_path is certs.d alone, nothing legacy", async () => {
        const dump = parseToml(
          await docker(["exec", node, "containerd", "config", effectiveConfigCommand(containerd)]),
        );
        const configPaths = findKeys(dump, "config_path");
        expect(configPaths[IMAGES_CONFIG_PATH]).toBe(CERTS_D);
        // The only other one is the transfer service's own, which CRI pulls do not read (in
        // transfer mode they pass the CRI config_path): left empty.
        delete configPaths[IMAGES_CONFIG_PATH];
        expect(configPaths).toEqual({
          "plugins.io.containerd.transfer.v1.local.config_path": "",
        });
        // One registry table, holding config_path and nothing else: no mirrors, configs, auths
        // or headers (legacy settings would sit there, and kind's config has none either).
        expect(findKeys(dump, "registry")).toEqual({
          "plugins.io.containerd.cri.v1.images.registry": { config_path: CERTS_D },
        });
        expect(findKeys(dump, "mirrors")).toEqual({});
        expect(findKeys(dump, "configs")).toEqual({});
      });

      it("without hosts.toml, neither name of the push registry can be pulled", async () => {
        const local = await criPull(node, viaLocalhost);
        expect(local.code).not.toBe(0);
        expect(local.stderr).toMatch(/connection refused/);
        // containerd speaks HTTPS to any host but localhost unless a hosts.toml says otherwise.
        const byName = await criPull(node, viaClusterName);
        expect(byName.code).not.toBe(0);
        expect(byName.stderr).toMatch(/server gave HTTP response to HTTPS client/);
      });

      it("with the component's hosts.toml files, both names of the push registry pull", async () => {
        const files = planHostsFiles(config);
        const r = await runScriptOk(hostsScript(node, files));
        const written = files.map((f) => `${CERTS_D}/${f.hostDir}/hosts.toml`);
        expect(r.stderr).toBe(
          written.map((w) => `pulumi-kind-dev: wrote ${w} on ${node}\n`).join(""),
        );
        const onNode = written.map((w) => docker(["exec", node, "cat", w]));
        expect(await Promise.all(onNode)).toEqual(files.map((f) => f.toml));
        for (const ref of [viaLocalhost, viaClusterName]) {
          const pull = await criPull(node, ref);
          expect(pull.stderr, ref).toBe("");
          expect(pull.code, ref).toBe(0);
          const inspect = JSON.parse(await docker(["exec", node, "cri-pull", "inspect", ref])) as {
            repoTags: string[];
          };
          expect(inspect.repoTags).toContain(ref);
        }
        // Both reached the registry container, the endpoint of both hosts.toml files; containerd
        // names the requested host in `ns` when it differs from the endpoint's.
        expect(await requestsBy(config.registry.spec.name, containerd)).toEqual(
          expect.arrayContaining([
            `/v2/kdt/testimg/manifests/1?ns=${encodeURIComponent(config.registry.host)}`,
            "/v2/kdt/testimg/manifests/1",
          ]),
        );
      });

      it("a Docker Hub image is pulled through the cache, never from the upstream directly", async () => {
        const pull = await criPull(node, `${repo}:1`);
        expect(pull.stderr).toBe("");
        expect(pull.code).toBe(0);
        const inspect = JSON.parse(
          await docker(["exec", node, "cri-pull", "inspect", `${repo}:1`]),
        ) as { repoTags: string[] };
        expect(inspect.repoTags).toContain(`docker.io/library/${repo}:1`);

        expect(await requestsBy(cacheName, containerd)).toContain(
          `/v2/library/${repo}/manifests/1?ns=docker.io`,
        );
        expect(await requestsBy(upstream, containerd)).toEqual([]);
        expect(await catalog(cachePort)).toContain(`library/${repo}`);
      });

      it(`without the component's patch, the hosts.toml files are read on 2.2+ only`, async () => {
        // A second node of this version, with kind's config alone.
        const bare = `${node}-no-patch`;
        await startNodeStandin(res, bare, network, "", id, image);
        try {
          await runScriptOk(hostsScript(bare, planHostsFiles(config)));
          const pull = await criPull(bare, viaClusterName);
          if (readsCertsDByDefault(containerd)) {
            expect(pull.stderr).toBe("");
            expect(pull.code).toBe(0);
          } else {
            expect(pull.code).not.toBe(0);
            expect(pull.stderr).toMatch(/server gave HTTP response to HTTPS client/);
          }
        } finally {
          await dockerResult(["rm", "-f", "-v", bare]);
        }
      });
    });
  },
);
