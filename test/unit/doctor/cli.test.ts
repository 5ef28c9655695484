/** The kind-dev command line: --help on every command, and one exact line for a bad one. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../components/doctor/cli";

async function kindDev(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: {},
  };
  return { code: await main(argv, io), stdout, stderr };
}

const DOCTOR =
  "kind-dev doctor [--cluster NAME] [--registry NAME] [--kubeconfig FILE] [--fix] [--json]";
const PRUNE = "kind-dev prune [--keep-last N] [--untagged] [--registry NAME] [--dry-run] [--json]";
const DOCTOR_ABOUT = `Checks the environment pulumi-kind-dev made: Docker, kind, the push registry, the caches,
every node's containerd configuration and hosts.toml, name resolution and a real pull on
every node, the KEP-1755 ConfigMap, and the volumes' disk use. --fix repairs what is safe
and local (hosts.toml, network attachments, a stopped registry or cache) and checks again.`;
const PRUNE_ABOUT = `Deletes images from the push registry, then stops it, runs its garbage collector on its
volume, starts it again and reports the bytes reclaimed. --keep-last N deletes the
manifests of all but the N newest tags of each repository, and the collector then deletes
only the blobs no manifest references: untagged manifests (what an older deployment or a
rollback may still name by digest) stay. --untagged, with it or alone, deletes them too.
Give --keep-last, --untagged, or both.`;
const indent = (text: string) => text.replace(/^/gm, "      ");

describe("--help: the usage on stdout, exit 0", () => {
  const BOTH = `Usage: kind-dev (doctor | prune) [options]

  ${DOCTOR}
${indent(DOCTOR_ABOUT)}
  ${PRUNE}
${indent(PRUNE_ABOUT)}

kind-dev <command> --help shows a command's options.
`;
  const DOCTOR_HELP = `Usage: ${DOCTOR}

${DOCTOR_ABOUT}

Options:
  --cluster NAME     kind cluster (default: the only one, or the one holding the registry)
  --registry NAME    push registry container (default: found by its labels)
  --kubeconfig FILE  kubeconfig for kubectl (default: kind get kubeconfig --name <cluster>)
  --fix              repair what is safe and local, then check again
  --json             print the report as JSON
  -h, --help         print this help
`;
  const PRUNE_HELP = `Usage: ${PRUNE}

${PRUNE_ABOUT}

Options:
  --keep-last N    delete the manifests of all but the N newest tags of each repository
  --untagged       also delete the manifests no tag points at (--delete-untagged)
  --registry NAME  push registry container (default: the only one labelled as one)
  --dry-run        show what would be deleted and how the collector would run; delete nothing
  --json           print the report as JSON
  -h, --help       print this help
`;
  it.each([
    [["--help"], BOTH],
    [["-h"], BOTH],
    [["help"], BOTH],
    [["doctor", "--help"], DOCTOR_HELP],
    [["doctor", "-h"], DOCTOR_HELP],
    [["doctor", "--cluster", "dev", "--help"], DOCTOR_HELP],
    [["prune", "--help"], PRUNE_HELP],
    [["prune", "-h"], PRUNE_HELP],
  ])("kind-dev %j", async (argv, stdout) => {
    expect(await kindDev(...argv)).toEqual({ code: 0, stdout, stderr: "" });
  });
});

describe("a bad command line: what is wrong and the usage line on stderr, exit 2", () => {
  it.each([
    [[], "kind-dev: no command given", "kind-dev (doctor | prune) [options]"],
    [["doctorr"], 'kind-dev: unknown command "doctorr"', "kind-dev (doctor | prune) [options]"],
    [["doctor", "--clusterr", "x"], "kind-dev doctor: unknown option '--clusterr'", DOCTOR],
    [["doctor", "-x"], "kind-dev doctor: unknown option '-x'", DOCTOR],
    [["doctor", "dev"], "kind-dev doctor: unexpected argument 'dev'", DOCTOR],
    [
      ["doctor", "--cluster"],
      "kind-dev doctor: option '--cluster <value>' argument missing",
      DOCTOR,
    ],
    [["doctor", "--fix=yes"], "kind-dev doctor: option '--fix' does not take an argument", DOCTOR],
    [["prune", "--force"], "kind-dev prune: unknown option '--force'", PRUNE],
    [["prune"], "kind-dev prune: say what to delete: --keep-last N, --untagged, or both", PRUNE],
    [
      ["prune", "--keep-last", "-1"],
      "kind-dev prune: option '--keep-last' argument is ambiguous",
      PRUNE,
    ],
    [
      ["prune", "--keep-last", "two"],
      'kind-dev prune: invalid --keep-last "two": must be a whole number of 0 or more',
      PRUNE,
    ],
  ])("%j", async (argv, message, usage) => {
    expect(await kindDev(...argv)).toEqual({
      code: 2,
      stdout: "",
      stderr: `${message}\nUsage: ${usage}\n`,
    });
  });
});

it("loads no package but Node's own: the command runs without the Pulumi SDK", () => {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) {
      return;
    }
    files.add(file);
    const text = readFileSync(file, "utf8");
    for (const [, spec = ""] of text.matchAll(
      /^(?:import|export)(?! type)[^;]*?from "([^"]+)"/gms,
    )) {
      if (spec.startsWith(".")) {
        visit(path.resolve(path.dirname(file), `${spec}.ts`));
      } else {
        packages.add(spec);
      }
    }
  };
  visit(path.resolve(__dirname, "../../../components/doctor/cli.ts"));
  expect(files.size).toBeGreaterThan(15);
  expect([...packages].sort()).toEqual([
    "node:child_process",
    "node:crypto",
    "node:fs",
    "node:net",
    "node:os",
    "node:path",
    "node:util",
    "node:zlib",
  ]);
});
