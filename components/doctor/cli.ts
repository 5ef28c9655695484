#!/usr/bin/env node
/**
 * The `kind-dev` command: `kind-dev doctor` and `kind-dev prune`. Exit status 0 when nothing
 * failed, 1 when a check or the prune failed, 2 for a bad command line.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { runDoctor } from "./doctor";
import { formatBytes } from "./parse";
import { RegistryApiError } from "./registryApi";
import { PruneError, type PruneReport, runPrune } from "./prune";
import { formatDoctorReport, styleFor } from "./report";

export const USAGE = `Usage:
  kind-dev doctor [--cluster NAME] [--registry NAME] [--kubeconfig FILE] [--fix] [--json]
      Checks the environment pulumi-kind-dev made: Docker, kind, the push registry, the caches,
      every node's containerd configuration and hosts.toml, name resolution and a real pull on
      every node, the KEP-1755 ConfigMap, and the volumes' disk use. --fix repairs what is safe
      and local (hosts.toml, network attachments, a stopped registry or cache) and checks again.
  kind-dev prune (--keep-last N | --untagged) [--registry NAME] [--dry-run] [--json]
      Deletes images from the push registry (--keep-last N: all but the N newest tags of each
      repository; --untagged: manifests no tag points at), then stops the registry, runs its
      garbage collector on its volume, starts it again and reports the bytes reclaimed.
`;

export interface Io {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

function parse(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
    });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

async function doctor(args: readonly string[], io: Io): Promise<number> {
  const v = parse(args, {
    cluster: { type: "string" },
    registry: { type: "string" },
    kubeconfig: { type: "string" },
    fix: { type: "boolean" },
    json: { type: "boolean" },
  });
  const report = await runDoctor({
    cluster: str(v["cluster"]),
    registry: str(v["registry"]),
    kubeconfig: str(v["kubeconfig"]),
    fix: v["fix"] === true,
  });
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

function formatPrune(report: PruneReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? "would delete" : "deleted";
  lines.push(
    `${report.registry} (${report.image}): ${verb} ${report.plan.delete.length} image${
      report.plan.delete.length === 1 ? "" : "s"
    }, kept ${report.plan.keep.length} tag${report.plan.keep.length === 1 ? "" : "s"}`,
  );
  for (const d of report.plan.delete) {
    lines.push(`  ${verb} ${d.repository}@${d.digest} (${d.tags.join(", ")})`);
  }
  if (report.note !== undefined) {
    lines.push(`note: ${report.note}`);
  }
  if (!report.dryRun) {
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

async function prune(args: readonly string[], io: Io): Promise<number> {
  const v = parse(args, {
    registry: { type: "string" },
    "keep-last": { type: "string" },
    untagged: { type: "boolean" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
  });
  const keepLast = str(v["keep-last"]);
  if (keepLast === undefined && v["untagged"] !== true) {
    throw new UsageError("prune needs --keep-last N, --untagged, or both");
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
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "doctor":
        return await doctor(rest, io);
      case "prune":
        return await prune(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(USAGE);
        return 0;
      default:
        throw new UsageError(
          command === undefined ? "no command given" : `unknown command ${JSON.stringify(command)}`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`kind-dev: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof PruneError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (e instanceof RegistryApiError) {
      io.stderr.write(`kind-dev ${command}: ${e.message}\n`);
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
