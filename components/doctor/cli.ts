#!/usr/bin/env node
/**
 * The `kind-dev` command: `kind-dev doctor` and `kind-dev prune`. Each answers --help (-h) with
 * its usage on stdout. Exit status 0 when nothing failed, 1 when a check or the prune failed, 2
 * for a bad command line, with one line saying what is wrong and the usage line on stderr.
 */
import { parseArgs } from "node:util";
import { runDoctor } from "./doctor";
import { NARROWING } from "./checks";
import { formatBytes, plural } from "./parse";
import { RegistryApiError } from "./registryApi";
import { collectorText, PruneError, type PruneReport, runPrune } from "./prune";
import { formatDoctorReport, styleFor } from "./report";

export interface Io {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

type Values = Readonly<Record<string, string | boolean | undefined>>;

interface Command {
  readonly about: string;
  /** `--name`: the value's placeholder for an option that takes one, and what it does. */
  readonly options: Readonly<Record<string, { readonly value?: string; readonly text: string }>>;
  readonly run: (v: Values, io: Io) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  doctor: {
    about: `Checks the environment pulumi-kind-dev made: Docker, kind, the push registry, the caches,
every node's containerd configuration and hosts.toml, name resolution and a real pull on
every node, the KEP-1755 ConfigMap, and the volumes' disk use. --fix repairs what is safe
and local (hosts.toml, network attachments, a stopped registry or cache) and checks again.`,
    options: {
      cluster: {
        value: "NAME",
        text: "kind cluster (default: the only one, or the one holding the registry)",
      },
      registry: { value: "NAME", text: "push registry container (default: found by its labels)" },
      kubeconfig: {
        value: "FILE",
        text: "kubeconfig for kubectl (default: kind get kubeconfig --name <cluster>)",
      },
      fix: { text: "repair what is safe and local, then check again" },
      json: { text: "print the report as JSON" },
    },
    run: doctor,
  },
  prune: {
    about: `Deletes images from the push registry, then stops it, runs its garbage collector on its
volume, starts it again and reports the bytes reclaimed. --keep-last N deletes the
manifests of all but the N newest tags of each repository, and the collector then deletes
only the blobs no manifest references: untagged manifests (what an older deployment or a
rollback may still name by digest) stay. --untagged, with it or alone, deletes them too.
Give --keep-last, --untagged, or both.`,
    options: {
      "keep-last": {
        value: "N",
        text: "delete the manifests of all but the N newest tags of each repository",
      },
      untagged: { text: "also delete the manifests no tag points at (--delete-untagged)" },
      registry: {
        value: "NAME",
        text: "push registry container (default: the only one labelled as one)",
      },
      "dry-run": {
        text: "show what would be deleted and how the collector would run; delete nothing",
      },
      json: { text: "print the report as JSON" },
    },
    run: prune,
  },
};

/** `--cluster NAME`, `--fix`: each option as it is written. */
function flags(command: Command): [string, string][] {
  return Object.entries(command.options).map(([flag, o]) => [
    `--${flag}${o.value === undefined ? "" : ` ${o.value}`}`,
    o.text,
  ]);
}

/** `kind-dev doctor [--cluster NAME] ...`: a command's usage line. */
function synopsis(name: string, command: Command): string {
  return ["kind-dev", name, ...flags(command).map(([f]) => `[${f}]`)].join(" ");
}

const TOP_SYNOPSIS = "kind-dev (doctor | prune) [options]";

/** What `kind-dev --help` prints. */
export const USAGE = `Usage: ${TOP_SYNOPSIS}

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${synopsis(name, c)}\n${c.about.replace(/^/gm, "      ")}\n`)
  .join("")}
kind-dev <command> --help shows a command's options.
`;

/** What `kind-dev <command> --help` prints. */
export function commandHelp(name: string, command: Command): string {
  const all: [string, string][] = [...flags(command), ["-h, --help", "print this help"]];
  const width = Math.max(...all.map(([f]) => f.length));
  return `Usage: ${synopsis(name, command)}

${command.about}

Options:
${all.map(([f, text]) => `  ${f.padEnd(width)}  ${text}`).join("\n")}
`;
}

/** A bad command line: what is wrong, in one line. */
class UsageError extends Error {}

/** The command's options, strictly; `--help` is every command's. */
function parse(command: Command, args: readonly string[]): Values {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([flag, o]) => [
      flag,
      { type: o.value === undefined ? ("boolean" as const) : ("string" as const) },
    ]),
  );
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    // Node's first sentence: `Unknown option '--x'`, `Unexpected argument 'x'`, ... (its
    // sentences end in ". " or ".\n").
    const what = ((e as Error).message.split(/\.\s/)[0] ?? "").replace(/^[A-Z]/, (c) =>
      c.toLowerCase(),
    );
    throw new UsageError(what);
  }
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

async function doctor(v: Values, io: Io): Promise<number> {
  const narrowing = Object.fromEntries(NARROWING.map((k) => [k, str(v[k])]));
  const report = await runDoctor({ ...narrowing, fix: v["fix"] === true });
  io.stdout.write(
    v["json"] === true
      ? JSON.stringify(report, null, 2) + "\n"
      : formatDoctorReport(report, styleFor(io.stdout, io.env)),
  );
  return report.ok ? 0 : 1;
}

/** `--keep-last` as a whole number of 0 or more. */
export function parseKeepLast(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `invalid --keep-last ${JSON.stringify(value)}: must be a whole number of 0 or more`,
    );
  }
  return Number(value);
}

/** The prune report for people: what was (or would be) deleted and how the collector runs. */
export function formatPrune(report: PruneReport): string {
  const { dryRun, plan } = report;
  const verb = dryRun ? "would delete" : "deleted";
  const lines = [
    `${report.registry} (${report.image}): ${verb} ${plural(plan.delete.length, "image")}, ${
      dryRun ? "keeping" : "kept"
    } ${plural(plan.keep.length, "tag")}`,
    ...plan.delete.map((d) => `  ${verb} ${d.repository}@${d.digest} (${d.tags.join(", ")})`),
    ...(report.note === undefined ? [] : [`note: ${report.note}`]),
    `${dryRun ? "would collect" : "collected"}: ${collectorText(report.deleteUntagged)}`,
  ];
  if (!dryRun) {
    if (report.collected !== undefined) {
      lines.push(`garbage collector: ${report.collected}`);
    }
    lines.push(
      report.bytesReclaimed === undefined
        ? "reclaimed: unknown (docker system df did not report the volume)"
        : `reclaimed ${formatBytes(report.bytesReclaimed)}: volume ${formatBytes(
            report.bytesBefore ?? 0,
          )} -> ${formatBytes(report.bytesAfter ?? 0)} (as docker system df measures it)`,
    );
  }
  lines.push(`${report.seconds.toFixed(1)} s`);
  return lines.join("\n") + "\n";
}

async function prune(v: Values, io: Io): Promise<number> {
  const keepLast = str(v["keep-last"]);
  if (keepLast === undefined && v["untagged"] !== true) {
    throw new UsageError("say what to delete: --keep-last N, --untagged, or both");
  }
  const json = v["json"] === true;
  const report = await runPrune({
    registry: str(v["registry"]),
    ...(keepLast === undefined ? {} : { keepLast: parseKeepLast(keepLast) }),
    untagged: v["untagged"] === true,
    dryRun: v["dry-run"] === true,
    ...(json ? {} : { log: (line: string) => io.stderr.write(`kind-dev prune: ${line}\n`) }),
  });
  io.stdout.write(json ? JSON.stringify(report, null, 2) + "\n" : formatPrune(report));
  return 0;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name = "", ...rest] = argv;
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (command !== undefined) {
      const values = parse(command, rest);
      if (values["help"] === true) {
        io.stdout.write(commandHelp(name, command));
        return 0;
      }
      return await command.run(values, io);
    }
    if (["help", "--help", "-h"].includes(name)) {
      io.stdout.write(USAGE);
      return 0;
    }
    throw new UsageError(
      name === "" ? "no command given" : `unknown command ${JSON.stringify(name)}`,
    );
  } catch (e) {
    if (e instanceof UsageError) {
      const usage = command === undefined ? TOP_SYNOPSIS : synopsis(name, command);
      const who = command === undefined ? "kind-dev" : `kind-dev ${name}`;
      io.stderr.write(`${who}: ${e.message}\nUsage: ${usage}\n`);
      return 2;
    }
    if (e instanceof PruneError || e instanceof RegistryApiError) {
      // A PruneError's message already names the command.
      io.stderr.write(`${e instanceof PruneError ? "" : `kind-dev ${name}: `}${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
    .then((code) => {
      process.exitCode = code;
    })
    .catch((e: unknown) => {
      process.stderr.write(
        `kind-dev: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      process.exitCode = 1;
    });
}
