/** The doctor's and prune's output: a table for people (colour on a terminal only), or JSON. */
import type { DoctorReport } from "./doctor";
import { plural } from "./parse";
import type { CheckResult, CheckStatus } from "./checks";

export interface Style {
  readonly colour: boolean;
}

const COLOURS: Readonly<Record<CheckStatus, string>> = {
  pass: "\u001b[32m",
  warn: "\u001b[33m",
  fail: "\u001b[31m",
};
const DIM = "\u001b[2m";
const RESET = "\u001b[0m";

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  return { colour: stream.isTTY === true && (env["NO_COLOR"] ?? "") === "" };
}

function paint(style: Style, code: string, text: string): string {
  return style.colour ? `${code}${text}${RESET}` : text;
}

const LABEL: Readonly<Record<CheckStatus, string>> = { pass: "ok", warn: "WARN", fail: "FAIL" };

/** One row per check; under each warning or failure, its remedy or the check it follows from. */
export function formatTable(results: readonly CheckResult[], style: Style): string {
  const width = Math.min(56, Math.max(5, ...results.map((r) => r.title.length)));
  const lines = [`${"    "}  ${"CHECK".padEnd(width)}  DETAIL`];
  const titles = new Map(results.map((r) => [r.id, r.title]));
  for (const r of results) {
    const label = paint(style, COLOURS[r.status], LABEL[r.status].padEnd(4));
    lines.push(`${label}  ${r.title.padEnd(width)}  ${r.detail}`);
    if (r.status === "pass") {
      continue;
    }
    const pad = " ".repeat(6);
    if (r.causedBy !== undefined) {
      lines.push(paint(style, DIM, `${pad}follows from: ${titles.get(r.causedBy) ?? r.causedBy}`));
    } else if (r.remedy !== "") {
      lines.push(`${pad}-> ${r.remedy}`);
    }
  }
  return lines.join("\n") + "\n";
}

export function summarize(results: readonly CheckResult[]): string {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const roots = results.filter((r) => r.status === "fail" && r.causedBy === undefined).length;
  const faults = count("fail") > 0 ? ` (${plural(roots, "fault")} at the root)` : "";
  return `${plural(results.length, "check")}: ${count("pass")} ok, ${plural(count("warn"), "warning")}, ${count("fail")} failed${faults}`;
}

/** The whole human-readable report of a doctor run. */
export function formatDoctorReport(report: DoctorReport, style: Style): string {
  const parts: string[] = [];
  if (report.fixes.length > 0 && report.before !== undefined) {
    const repairs = report.fixes.map((f) => {
      const done = paint(style, f.ok ? COLOURS.pass : COLOURS.fail, f.ok ? "done" : "FAILED");
      return `  ${done}  ${f.description}${f.error === undefined ? "" : `: ${f.error}`}\n`;
    });
    parts.push(`Before --fix:\n${formatTable(report.before, style)}`);
    parts.push(`Repairs:\n${repairs.join("")}`, "After --fix:");
  }
  parts.push(formatTable(report.results, style));
  parts.push(`${summarize(report.results)}; ${report.seconds.toFixed(1)} s\n`);
  return parts.join("\n");
}
