/**
 * Integration test 2: a node stand-in (containerd 1.6 in a container, like a kind node without
 * the registry patch) on the component's docker network gets the component's containerd patch
 * and, through the component's own hosts.toml command run against it by its kind node name,
 * pulls `localhost:<registryPort>/...` from the push registry container (started by the
 * component's ensure script) over the network.
 */
import { beforeAll, expect, it } from "vitest";
import type { ResolvedConfig } from "../../components/config";
import {
  CERTS_D,
  CONTAINERD_CONFIG_PATCH,
  HOSTS_MANIFEST,
} from "../../components/render/containerd";
import { planHostsFiles } from "../../components/render/hostsToml";
import { hostsScript } from "../../components/scripts";
import {
  BED_IMAGES,
  bedSuite,
  criPull,
  criRegistryConfig,
  describeDocker,
  docker,
  dockerResult,
  ensureRegistryContainerOk,
  hostsSyncLog,
  hostsTomlOn,
  runScriptOk,
  startNodeStandin,
} from "./helpers";

describeDocker("node pulls from the push registry through the component's hosts.toml", () => {
  const suite = bedSuite(1);
  const { id, res } = suite;
  let config: ResolvedConfig;
  let node: string;
  let image: string;

  beforeAll(async () => {
    config = suite.config({ registryPort: suite.port(0) });
    res.container(config.registry.spec.name);
    res.volume(config.registry.spec.volume);
    // Started as the component starts it: its ensure script, which waits for GET /v2/.
    const started = await ensureRegistryContainerOk(config.registry.spec, {
      probeUrl: config.registry.probeUrl,
    });
    expect(started.stderr).toContain(`answers at ${config.registry.probeUrl}`);
    image = res.image(`${config.registry.host}/kdt/testimg:1`);
    await docker(["tag", BED_IMAGES.testImage, image]);
    await docker(["push", image]);
    node = config.nodes[0]?.name ?? "";
    await startNodeStandin(res, node, config.networkName, CONTAINERD_CONFIG_PATCH, id);
  });

  it("names the node like kind and plans a hosts.toml for each of the push registry's names", () => {
    expect(node).toBe(`kdt-${id}-control-plane`);
    expect(planHostsFiles(config).map((f) => f.hostDir)).toEqual([
      config.registry.host,
      `kdt-reg-${id}:5000`,
    ]);
  });

  it("the containerd patch sets the CRI plugin's config_path", async () => {
    expect((await criRegistryConfig(node)).configPath).toBe(CERTS_D);
  });

  it("without hosts.toml the pull fails: localhost in the node is the node", async () => {
    const r = await criPull(node, image);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/connection refused/);
  });

  it("the component's command writes hosts.toml into the node, and the pull succeeds", async () => {
    // One command per node writes all of its files, as the component runs it.
    const files = planHostsFiles(config);
    const r = await runScriptOk(hostsScript(node, files));
    expect(r.stderr).toBe(hostsSyncLog("wrote", node, files));
    expect(await hostsTomlOn(node, files)).toEqual(files.map((f) => f.toml));
    expect(await docker(["exec", node, "cat", `${CERTS_D}/${HOSTS_MANIFEST}`])).toBe(
      files.map((f) => `${f.hostDir}\n`).join(""),
    );

    const pull = await criPull(node, image);
    expect(pull.stderr).toBe("");
    expect(pull.code).toBe(0);
    const inspect = JSON.parse(await docker(["exec", node, "cri-pull", "inspect", image])) as {
      repoTags: string[];
    };
    expect(inspect.repoTags).toContain(image);

    // The registry saw containerd's requests, addressed to it over the docker network.
    const logs = await dockerResult(["logs", config.registry.spec.name]);
    const fromNode = (logs.stdout + logs.stderr)
      .split("\n")
      .filter((line) => line.includes('http.request.useragent="containerd/'));
    expect(fromNode.length).toBeGreaterThan(0);
    expect(
      fromNode.every((l) =>
        l.includes(`http.request.host="${config.registry.hostFromClusterNetwork}"`),
      ),
    ).toBe(true);
    expect(fromNode.some((l) => l.includes('http.request.uri="/v2/kdt/testimg/manifests/1?'))).toBe(
      true,
    );
  });

  it("running the command again changes nothing, and delete removes only what it wrote", async () => {
    const files = planHostsFiles(config);
    const cmd = hostsScript(node, files);
    const inode = (file: string) => docker(["exec", node, "stat", "-c", "%i", file]);
    const paths = files.map((f) => `${CERTS_D}/${f.hostDir}/hosts.toml`);
    const before = await Promise.all(paths.map(inode));
    const again = await runScriptOk(cmd);
    expect(again.stderr).toBe(hostsSyncLog("kept", node, files));
    expect(await Promise.all(paths.map(inode))).toEqual(before);
    expect(await hostsTomlOn(node, files)).toEqual(files.map((f) => f.toml));

    // A directory the command did not write is not its to remove.
    await docker(["exec", node, "mkdir", "-p", `${CERTS_D}/by-hand`]);
    await runScriptOk(cmd, "delete");
    for (const written of [...files.map((f) => f.hostDir), HOSTS_MANIFEST]) {
      const gone = await dockerResult(["exec", node, "test", "-e", `${CERTS_D}/${written}`]);
      expect(gone.code, written).not.toBe(0);
    }
    expect((await dockerResult(["exec", node, "test", "-d", `${CERTS_D}/by-hand`])).code).toBe(0);
  });
});
