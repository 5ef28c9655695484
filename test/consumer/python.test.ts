/**
 * The component from Python, by reference to a release, on the real engine: a Pulumi Python
 * program (pip, a venv with the `pulumi` SDK from PyPI at the CLI's version) in a temporary
 * directory runs the README's `pulumi package add` of the release tag from the local git host
 * (test/support/gitHost.ts), which generates the Python SDK under sdks/ and installs it into the
 * venv. Then `up` of a `KindDevEnvironment`, a preview with no changes, `pulumi install` in a
 * fresh copy (no sdks/, no venv, an empty plugin cache) that previews no changes, `destroy`.
 *
 * Every `pulumi` command here runs on the CLI of the Python host's own release (3.184.0), not
 * the bed's: `pulumi package add` and `pulumi install` link the SDK into the program through the
 * host's Link call, whose request changed shape in Pulumi 3.203.0, and 3.184.0 is the newest
 * Python host the module proxy serves here (test/bed/language-python.sh builds both).
 *
 * Needs `npm run testbed:e2e` and `bash test/bed/language-python.sh` (`npm run test:consumer`
 * runs it), python3 with venv, PyPI, git, openssl, 127.0.0.1:443 free.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BED_BIN, BED_CACHE, freePort, run, runAsync, TOOLS_ENV, tryRun } from "../support/bed";
import {
  consumerEnv,
  consumerPulumiHome,
  type GitHost,
  installedKindDevPlugins,
  startGitHost,
} from "../support/gitHost";
import { commandLine, packageAddArgs, recordedPackage } from "../support/install";

const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
const NAME = "kdev-pkg-py";
const STACK = "py";

/** The version of the bed's Python host, from the folder it is built into. */
function pythonHostVersion(): string | undefined {
  const link = path.join(BED_BIN, "pulumi-language-python");
  if (!existsSync(link)) {
    return undefined;
  }
  return /\/pulumi-language-python\/([0-9.]+)\/pulumi-language-python$/.exec(
    realpathSync(link),
  )?.[1];
}

/** The Python host's version, which is also the CLI's and the `pulumi` SDK's here. */
const VERSION = pythonHostVersion();
/** The CLI of the host's release, with both language hosts next to it. */
const CLI_DIR = path.join(BED_CACHE, "pulumi", VERSION ?? "none");

/**
 * consumerEnv on the CLI above. CLI 3.184.0 installs the plugin that `pulumi package add` or
 * `pulumi install` names only while automatic plugin acquisition is on (later CLIs always do);
 * the plugin comes from the local git host, and the bed's resource plugins are already there.
 */
function pythonEnv(home: string): Record<string, string> {
  return {
    ...consumerEnv(path.join(work, "state"), home, host, CLI_DIR),
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "false",
  };
}

let work: string;
let host: GitHost;
let project: string;
let stack: Stack | undefined;

function cleanup(): void {
  tryRun("kind", ["delete", "cluster", "--name", NAME]);
  tryRun("docker", ["rm", "-f", `${NAME}-registry`]);
  tryRun("docker", ["volume", "rm", `${NAME}-registry-data`]);
  tryRun("docker", ["network", "rm", NAME]);
}

const PULUMI_YAML = `name: ${NAME}
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
`;

/** The program, once the SDK's module name is known (it carries the repository's owner). */
const program = (module: string): string => `import pulumi
from ${module} import KindDevEnvironment

config = pulumi.Config()
env = KindDevEnvironment(
    "env",
    cluster_name="${NAME}",
    workers=1,
    node_image="${NODE_IMAGE}",
    network_name="${NAME}",
    registry_name="${NAME}-registry",
    registry_port=config.require_int("registryPort"),
    caches=[],
    retain_on_destroy=False,
)

pulumi.export("nodeNames", env.node_names)
pulumi.export("registryHost", env.registry_host)
pulumi.export("kubeconfig", env.kubeconfig)
`;

async function selectStack(dir: string, home: string): Promise<Stack> {
  process.env["PATH"] = `${CLI_DIR}:${TOOLS_ENV["PATH"] ?? ""}`;
  const pulumiCommand = await PulumiCommand.get({ skipVersionCheck: true });
  return LocalWorkspace.createOrSelectStack(
    { stackName: STACK, workDir: dir },
    { pulumiCommand, envVars: pythonEnv(home) },
  );
}

function changes(summary: Record<string, number | undefined>): [string, number | undefined][] {
  return Object.entries(summary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
}

describe("a Pulumi Python program adds the component by its release tag", () => {
  let registryPort: number;
  let home: string;

  beforeAll(async () => {
    const tools = [
      ...["pulumi", "pulumi-language-python", "pulumi-language-nodejs"].map((t) =>
        path.join(CLI_DIR, t),
      ),
      path.join(BED_BIN, "kind"),
    ];
    for (const tool of tools) {
      if (VERSION === undefined || !existsSync(tool)) {
        throw new Error(
          `${tool} is missing: run 'npm run testbed:e2e' and 'bash test/bed/language-python.sh'`,
        );
      }
    }
    const version = run(path.join(CLI_DIR, "pulumi"), ["version"]).trim();
    expect(version).toBe(`v${VERSION}`);
    cleanup();
    work = mkdtempSync(path.join(os.tmpdir(), "kdev-pkg-py-"));
    host = await startGitHost(work);
    project = path.join(work, "project");
    mkdirSync(project);
    mkdirSync(path.join(work, "state"));
    home = consumerPulumiHome(path.join(work, "pulumi-home"));
    registryPort = await freePort();
    writeFileSync(path.join(project, "Pulumi.yaml"), PULUMI_YAML);
    // The SDK at the CLI's version, from PyPI, into the venv `pulumi install` makes.
    writeFileSync(path.join(project, "requirements.txt"), `pulumi==${VERSION}\n`);
    writeFileSync(path.join(project, "__main__.py"), "import pulumi\n");
  }, 300_000);

  afterAll(async () => {
    if (stack) {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    cleanup();
    await host?.close();
    if (work && process.env["KEEP_CONSUMER_DIR"] !== "1") {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it("pulumi install makes the venv; pulumi package add of the tag generates and installs the SDK", async () => {
    const env = pythonEnv(home);
    const venv = await runAsync("pulumi", ["install"], { cwd: project, env, timeoutMs: 900_000 });
    expect(venv.code, `${venv.stdout}\n${venv.stderr}`).toBe(0);
    const args = packageAddArgs(host.host, host.tag);
    const start = Date.now();
    const added = await runAsync("pulumi", args, { cwd: project, env, timeoutMs: 900_000 });
    console.log(
      `[python] ${commandLine("pulumi", args)}: ${((Date.now() - start) / 1000).toFixed(1)}s`,
    );
    expect(added.code, `${added.stdout}\n${added.stderr}`).toBe(0);
    const recorded = parse(readFileSync(path.join(project, "Pulumi.yaml"), "utf8")) as {
      packages: unknown;
    };
    // CLI 3.184.0 records the version without the tag's `v` and names the plugin's folder
    // without the subdirectory (later CLIs: the tag as given, `.git_provider-v<version>`).
    const version = host.tag.replace(/^v/, "");
    expect(recorded.packages).toEqual({ "kind-dev": recordedPackage(host.host, version) });
    expect(installedKindDevPlugins(home)).toEqual([
      `resource-localhost_OWNER_pulumi-kind-dev.git-${host.tag}`,
    ]);
    // sdks/<owner>-kind-dev holds the module <owner>_kind_dev.
    const sdks = readdirSync(path.join(project, "sdks")).filter((d) => d.endsWith("-kind-dev"));
    expect(sdks).toHaveLength(1);
    writeFileSync(path.join(project, "__main__.py"), program((sdks[0] ?? "").replace(/-/g, "_")));
  }, 1_200_000);

  it("up creates the environment", async () => {
    stack = await selectStack(project, home);
    await stack.setConfig("registryPort", { value: String(registryPort) });
    const start = Date.now();
    const result = await stack.up({ onOutput: (o) => process.stdout.write(o) });
    console.log(`[python] up: ${((Date.now() - start) / 1000).toFixed(1)}s`);
    expect(result.summary.result).toBe("succeeded");
    const outputs = await stack.outputs();
    expect(outputs["nodeNames"]?.value).toEqual([`${NAME}-control-plane`, `${NAME}-worker`]);
    expect(outputs["registryHost"]?.value).toBe(`localhost:${registryPort}`);
    expect(outputs["kubeconfig"]?.secret).toBe(true);
    const kubeconfig = path.join(work, "kubeconfig");
    writeFileSync(kubeconfig, String(outputs["kubeconfig"]?.value), { mode: 0o600 });
    expect(run("kubectl", ["--kubeconfig", kubeconfig, "get", "nodes", "-o", "name"])).toContain(
      `${NAME}-worker`,
    );
  }, 1_200_000);

  it("a preview right after up shows no changes", async () => {
    const preview = await stack!.preview();
    expect(changes(preview.changeSummary)).toEqual([]);
  }, 600_000);

  it("pulumi install restores the package in a fresh copy, which previews no changes", async () => {
    const fresh = path.join(work, "fresh");
    mkdirSync(fresh);
    for (const f of ["Pulumi.yaml", `Pulumi.${STACK}.yaml`, "requirements.txt", "__main__.py"]) {
      copyFileSync(path.join(project, f), path.join(fresh, f));
    }
    const freshHome = consumerPulumiHome(path.join(work, "pulumi-home-fresh"));
    const start = Date.now();
    const installed = await runAsync("pulumi", ["install"], {
      cwd: fresh,
      env: pythonEnv(freshHome),
      timeoutMs: 900_000,
    });
    console.log(
      `[python] pulumi install (fresh copy): ${((Date.now() - start) / 1000).toFixed(1)}s`,
    );
    expect(installed.code, `${installed.stdout}\n${installed.stderr}`).toBe(0);
    expect(installedKindDevPlugins(freshHome)).toHaveLength(1);
    expect(existsSync(path.join(fresh, "sdks"))).toBe(true);
    stack = await selectStack(fresh, freshHome);
    const preview = await stack.preview();
    expect(changes(preview.changeSummary)).toEqual([]);
  }, 1_200_000);

  it("destroy (from the fresh copy) removes the cluster, the registry and the network", async () => {
    const result = await stack!.destroy({ onOutput: (o) => process.stdout.write(o) });
    expect(result.summary.result).toBe("succeeded");
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(NAME);
    expect(tryRun("docker", ["inspect", `${NAME}-registry`]).ok).toBe(false);
    expect(tryRun("docker", ["network", "inspect", NAME]).ok).toBe(false);
  }, 600_000);
});
