/**
 * How the program's lookups (lookup.ts), its reads of the host's Docker (hostCredentials.ts),
 * the doctor and prune run docker, kind, kubectl and credential helpers: an argument vector,
 * never a shell, so no value (a container name, a path, a URL) can change what runs. Commands
 * that run a shell inside a node pass a constant script and hand every value to it as a
 * positional argument. Imports nothing of Pulumi: the doctor loads it.
 */
import { execFile, spawnSync } from "node:child_process";

export interface ExecResult {
  /** Exit status; -1 when the command could not be started or was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The program is not on PATH. */
  readonly missing: boolean;
  /** Killed after the timeout. */
  readonly timedOut: boolean;
}

export interface ExecOptions {
  /** Written to the command's standard input, which is then closed. */
  readonly input?: string | Buffer;
  /** Default 60 s. */
  readonly timeoutMs?: number;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs one program with arguments; resolves whatever the exit status, never rejects. */
export type Exec = (
  file: string,
  args: readonly string[],
  options?: ExecOptions,
) => Promise<ExecResult>;

const spawnOptions = (options: ExecOptions) => ({
  timeout: options.timeoutMs ?? 60_000,
  maxBuffer: 64 * 1024 * 1024,
  encoding: "utf8" as const,
  env: { ...process.env, ...options.env },
});

export const execCommand: Exec = (file, args, options = {}) =>
  new Promise((resolve) => {
    const child = execFile(file, [...args], spawnOptions(options), (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({
        code,
        stdout,
        stderr,
        missing: err?.code === "ENOENT",
        timedOut: err?.killed === true && err.signal === "SIGTERM",
      });
    });
    // A command that exits before reading its input must not crash the doctor with EPIPE.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });

/** execCommand to its end before it returns: for the reads a constructor makes (config.ts). */
export function execCommandSync(
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): ExecResult {
  const r = spawnSync(file, [...args], { ...spawnOptions(options), input: options.input ?? "" });
  const err = r.error as NodeJS.ErrnoException | undefined;
  return {
    code: err === undefined && r.status !== null ? r.status : -1,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    missing: err?.code === "ENOENT",
    timedOut: err?.code === "ETIMEDOUT",
  };
}

/** The last non-empty line a command printed on stderr (or stdout), for a one-line detail. */
export function lastLine(r: ExecResult): string {
  if (r.missing || r.timedOut) {
    return r.missing ? "not on PATH" : "timed out";
  }
  const last = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .pop();
  return last(r.stderr) ?? last(r.stdout) ?? `exit status ${r.code}`;
}

/** A command as a user would type it, for remedies: arguments POSIX-quoted only where needed. */
export function displayCommand(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}
