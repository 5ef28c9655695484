/**
 * The product's scripts run with whichever `docker` client a user has: the test bed's machines
 * carry a Docker 28 client first on PATH and Debian's Docker 20.10 client in /usr/bin, both
 * talking to the same daemon. For each distinct client, the network and registry scripts run with
 * only that client on PATH: the registry is created, kept on a second run, answers, and the delete
 * script removes it.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../components/config";
import { networkScript, type Script } from "../../components/scripts";
import {
  BED_BIN,
  describeDocker,
  dockerResult,
  freePort,
  http,
  mustContainerInfo,
  prepareBed,
  componentRegistryScript,
  Resources,
  runAsync,
  runId,
  type RunResult,
  runScript,
} from "./helpers";

/** Every distinct docker client on this machine: the first on PATH (outside the bed) and Debian's. */
function dockerClients(): string[] {
  const dirs = (process.env["PATH"] ?? "").split(":").filter((d) => d !== "" && d !== BED_BIN);
  const found = [...dirs.map((d) => path.join(d, "docker")), "/usr/bin/docker"].filter((f) =>
    existsSync(f),
  );
  const byTarget = new Map<string, string>();
  for (const f of found) {
    const target = realpathSync(f);
    if (!byTarget.has(target) && !target.includes("docker-wrapper")) {
      byTarget.set(target, f);
    }
  }
  return [...byTarget.values()];
}

const CLIENTS = dockerClients();

describeDocker("the component's scripts with each docker client", () => {
  const res = new Resources();
  const binDir = mkdtempSync(path.join(os.tmpdir(), "kdt-clients-"));

  /** Runs a script with `client` as the only `docker` on PATH. */
  function runWith(client: string, cmd: Script, phase: "create" | "delete"): Promise<RunResult> {
    const dir = path.join(binDir, String(CLIENTS.indexOf(client)));
    const PATH = `${dir}:/usr/sbin:/usr/bin:/sbin:/bin`;
    return runScript({ ...cmd, environment: { ...cmd.environment, PATH } }, phase);
  }

  beforeAll(async () => {
    await prepareBed();
    CLIENTS.forEach((client, i) => {
      const dir = path.join(binDir, String(i));
      mkdirSync(dir);
      symlinkSync(client, path.join(dir, "docker"));
    });
  });

  afterAll(async () => {
    await res.cleanup();
    rmSync(binDir, { recursive: true, force: true });
  });

  it("finds Debian's client and at least one other", () => {
    expect(CLIENTS).toContain("/usr/bin/docker");
  });

  it.each(CLIENTS)("with %s: network, registry (kept on re-run), delete", async (client) => {
    const version = await runAsync(client, ["version", "--format", "{{.Client.Version}}"]);
    expect(version.code).toBe(0);
    console.log(`[clients] ${client}: client ${version.stdout.trim()}`);
    const id = runId();
    const config = resolveConfig({
      clusterName: `kdt-${id}`,
      networkName: res.network(`kdt-net-${id}`),
      registryName: res.container(`kdt-reg-${id}`),
      registryPort: await freePort(),
      caches: [],
      retainOnDestroy: false,
    });
    const { spec, probeUrl } = config.registry;
    res.volume(spec.volume);
    const net = await runWith(client, networkScript(config.networkName, true), "create");
    expect(net.code, net.stderr).toBe(0);

    const ensure = async () =>
      runWith(
        client,
        await componentRegistryScript(spec, { probeUrl, removeOnDelete: true }),
        "create",
      );
    const first = await ensure();
    expect(first.code, first.stderr).toBe(0);
    const started = (await mustContainerInfo(spec.name)).startedAt;
    expect((await http(probeUrl)).status).toBe(200);
    const second = await ensure();
    expect(second.code, second.stderr).toBe(0);
    expect((await mustContainerInfo(spec.name)).startedAt).toBe(started);

    const script = await componentRegistryScript(spec, { removeOnDelete: true });
    const removed = await runWith(client, script, "delete");
    expect(removed.code, removed.stderr).toBe(0);
    expect((await dockerResult(["container", "inspect", spec.name])).code).toBe(1);
  });
});
