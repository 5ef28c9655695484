/**
 * components/scripts.ts: each step's short command line, the environment that carries the
 * script texts and values, and the spelling the script files share with the TypeScript side.
 * Which script each of the component's commands runs: kindDevEnvironment.test.ts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CERTS_D, HOSTS_MANIFEST } from "../../../components/render/containerd";
import {
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_REPAIR,
  LABEL_ROLE,
  LABEL_SETTINGS,
  LABEL_SPEC,
  LABEL_UPSTREAM,
  REGISTRY_DATA_PATH,
} from "../../../components/render/containerSpecs";
import { hostsEnvironment, publishArg, scriptSteps, stepLine } from "../../../components/scripts";
import { DEFAULT_HOSTS_ENVIRONMENT, DEFAULT_HOSTS_FILES } from "../fixtures";
import { ensure, REGISTRY_SPEC, SCRIPTS_DIR, scriptHarness } from "./harness";

const h = scriptHarness();

/** /bin/sh, which runs the scripts: dash here, bash or BusyBox under test/unit/scripts/shells.sh. */
function shell(): keyof typeof SHELL_SAYS {
  if (/^BusyBox /.test(spawnSync("/bin/sh", ["--help"], { encoding: "utf8" }).stderr)) {
    return "busybox";
  }
  const bash = spawnSync("/bin/sh", ["-c", "echo ${BASH_VERSION:-}"], { encoding: "utf8" });
  return bash.stdout.trim() === "" ? "dash" : "bash";
}

/** Each shell's exit status, stdout and stderr for a step whose script fails in the shell itself. */
const SHELL_SAYS = {
  dash: {
    unbound: [2, "", "x.sh: 2: NOT_SET: parameter not set\n"],
    notFound: [127, "", "x.sh: 2: nope: not found\n"],
    unset: [2, "", "/bin/sh: 1: KIND_DEV_CREATE: parameter not set or null\n"],
  },
  bash: {
    unbound: [1, "", "x.sh: line 2: NOT_SET: unbound variable\n"],
    notFound: [127, "", "x.sh: line 2: nope: command not found\n"],
    unset: [127, "", "/bin/sh: line 1: KIND_DEV_CREATE: parameter null or not set\n"],
  },
  // BusyBox numbers the lines of a `sh -c` text from 0.
  busybox: {
    unbound: [2, "", "x.sh: line 1: NOT_SET: parameter not set\n"],
    notFound: [127, "", "x.sh: line 1: nope: not found\n"],
    unset: [2, "", "/bin/sh: KIND_DEV_CREATE: parameter not set or null\n"],
  },
} as const;

describe("the command line of a step", () => {
  const line = stepLine("create", "x");
  const script = [
    "set -eu",
    "trap 'echo trap ran' EXIT",
    `v="a \\"quoted\\" $(echo 'sub') \`echo tick\`"`,
    'printf "%s\\n" "$v" "$0"',
    "cat <<'END'",
    "$HOME ${X:-} `x` \\",
    "END",
    "",
  ].join("\n");
  const says = SHELL_SAYS[shell()];
  const written = 'a "quoted" sub tick\nx.sh\n$HOME ${X:-} `x` \\\ntrap ran\n';

  it.each([
    ["passes the exit status on", "set -eu\necho started >&2\nexit 7\n", 7, "", "started\n"],
    ["stops at a failure (set -e)", "set -eu\necho before\nfalse\necho after\n", 1, "before\n", ""],
    ["names script and line (set -u)", 'set -eu\necho "$NOT_SET"\n', ...says.unbound],
    ["names the script in shell errors", "set -eu\nnope\necho after\n", ...says.notFound],
    ["runs nothing when the variable is empty", "", ...says.unset],
    ["runs nothing when the variable is missing", undefined, ...says.unset],
    [
      "runs the text as written: quotes, substitutions, here-documents, an EXIT trap",
      script,
      0,
      written,
      "",
    ],
  ])("%s", (_what, text, status, stdout, stderr) => {
    const r = h.sh(line, text === undefined ? {} : { KIND_DEV_CREATE: text });
    expect([r.status, r.stdout, r.stderr]).toEqual([status, stdout, stderr]);
  });

  it.each(["KIND_DEV_CREATE", "KIND_DEV_UPDATE", "KIND_DEV_DELETE"])(
    "refuses a value named %s, the variable of a step",
    (variable) => {
      expect(() => scriptSteps({ create: "network-ensure" }, { [variable]: "x" })).toThrow(
        `the environment variable ${variable} carries a script and cannot be set`,
      );
    },
  );
});

describe("the environment", () => {
  it("of a hosts.toml command: one variable per file, named after its host, and their list", () => {
    expect(hostsEnvironment("dev-worker", DEFAULT_HOSTS_FILES)).toEqual({
      NODE: "dev-worker",
      ...DEFAULT_HOSTS_ENVIRONMENT,
    });
    expect(hostsEnvironment("dev-control-plane", [])).toEqual({
      NODE: "dev-control-plane",
      HOSTS: "",
    });
  });

  it("refuses two hosts.toml files that would share a variable", () => {
    expect(() =>
      hostsEnvironment("n", [
        { hostDir: "a.b", slug: "a-b", toml: "" },
        { hostDir: "a:b", slug: "a-b", toml: "" },
      ]),
    ).toThrow('hosts.toml files for "a:b" and another host share the variable HOSTS_TOML_A_B');
  });

  it.each([
    ["::1", "[::1]:5001:5000"],
    ["0.0.0.0", "0.0.0.0:5001:5000"],
  ])("publishes %s as %s (IPv6 in brackets)", (hostIp, arg) => {
    expect(publishArg({ hostIp, hostPort: 5001, containerPort: 5000 })).toBe(arg);
  });

  it("refuses a container environment variable name that is not a plain identifier", () => {
    expect(() => ensure(REGISTRY_SPEC, { secretEnv: { "A B": "x" } })).toThrow(
      'invalid container environment variable name "A B"',
    );
  });
});

describe("the script files", () => {
  const all = fs
    .readdirSync(SCRIPTS_DIR)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => fs.readFileSync(path.join(SCRIPTS_DIR, f), "utf8"))
    .join("\n");

  it("spell the labels, the data path and certs.d as the TypeScript side does", () => {
    for (const literal of [
      `"${LABEL_MANAGED}"`,
      `"${LABEL_SPEC}"`,
      `"${LABEL_OWNER}"`,
      `"${LABEL_SETTINGS}"`,
      `${LABEL_MANAGED}=true`,
      `${LABEL_ROLE}=$ROLE`,
      `${LABEL_OWNER}=$OWNER`,
      `${LABEL_SETTINGS}=$SETTINGS`,
      `${LABEL_UPSTREAM}=$UPSTREAM`,
      `$VOLUME:${REGISTRY_DATA_PATH}`,
      `sh ${CERTS_D} "$@"`,
      `sh ${CERTS_D} >/dev/null`,
      `manifest=$d/${HOSTS_MANIFEST}`,
    ]) {
      expect(all).toContain(literal);
    }
  });

  it("use no dev.pulumi-kind-dev label the TypeScript side does not know", () => {
    const labels = new Set(all.match(/dev\.pulumi-kind-dev\.[a-z]+/g));
    const known = [LABEL_MANAGED, LABEL_ROLE, LABEL_SPEC, LABEL_UPSTREAM, LABEL_OWNER];
    expect([...labels].sort()).toEqual([...known, LABEL_SETTINGS, LABEL_REPAIR].sort());
  });
});
