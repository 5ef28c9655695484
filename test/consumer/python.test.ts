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
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BED_BIN, BED_CACHE, run } from "../support/bed";
import { ConsumerProject, installedKindDevPlugins } from "../support/gitHost";
import { packageAddArgs, recordedPackage } from "../support/install";
import { NODE_IMAGE } from "../support/lifecycle";

const NAME = "kdev-pkg-py";

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

describe("a Pulumi Python program adds the component by its release tag", () => {
  const c = new ConsumerProject({
    label: "python",
    name: NAME,
    stackName: "py",
    tools: ["pulumi", "pulumi-language-python", "pulumi-language-nodejs"].map((t) =>
      path.join(CLI_DIR, t),
    ),
    toolsHint: "'npm run testbed:e2e' and 'bash test/bed/language-python.sh'",
    gitHost: true,
    cliDir: CLI_DIR,
    // CLI 3.184.0 installs the plugin that `pulumi package add` or `pulumi install` names only
    // while automatic plugin acquisition is on (later CLIs always do); the plugin comes from the
    // local git host, and the bed's resource plugins are already there.
    env: { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "false" },
  });

  it("pulumi install makes the venv; pulumi package add of the tag generates and installs the SDK", async () => {
    expect(run(path.join(CLI_DIR, "pulumi"), ["version"]).trim()).toBe(`v${VERSION}`);
    const host = c.host!;
    writeFileSync(path.join(c.project, "Pulumi.yaml"), PULUMI_YAML);
    // The SDK at the CLI's version, from PyPI, into the venv `pulumi install` makes.
    writeFileSync(path.join(c.project, "requirements.txt"), `pulumi==${VERSION}\n`);
    writeFileSync(path.join(c.project, "__main__.py"), "import pulumi\n");
    await c.command("pulumi", ["install"], c.project);
    await c.command("pulumi", packageAddArgs(host.host, host.tag), c.project);
    const recorded = parse(readFileSync(path.join(c.project, "Pulumi.yaml"), "utf8")) as {
      packages: unknown;
    };
    // CLI 3.184.0 records the version without the tag's `v` and names the plugin's folder
    // without the subdirectory (later CLIs: the tag as given, `.git_provider-v<version>`).
    const version = host.tag.replace(/^v/, "");
    expect(recorded.packages).toEqual({ "kind-dev": recordedPackage(host.host, version) });
    expect(installedKindDevPlugins(c.home)).toEqual([
      `resource-localhost_OWNER_pulumi-kind-dev.git-${host.tag}`,
    ]);
    // sdks/<owner>-kind-dev holds the module <owner>_kind_dev.
    const sdks = readdirSync(path.join(c.project, "sdks")).filter((d) => d.endsWith("-kind-dev"));
    expect(sdks).toHaveLength(1);
    writeFileSync(path.join(c.project, "__main__.py"), program((sdks[0] ?? "").replace(/-/g, "_")));
  });

  it("up creates the environment", async () => {
    await c.up();
    expect(await c.kubectl("get", "nodes", "-o", "name")).toContain(`${NAME}-worker`);
  });

  it("a preview right after up shows no changes", () => c.expectNoChanges());

  it("pulumi install restores the package in a fresh copy, which previews no changes", async () => {
    const { dir } = await c.freshCopy(["requirements.txt", "__main__.py"]);
    expect(existsSync(path.join(dir, "sdks"))).toBe(true);
    await c.expectNoChanges();
  });

  it("destroy (from the fresh copy) removes the cluster, the registry and the network", () =>
    c.destroy());
});
