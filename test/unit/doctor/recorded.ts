/**
 * Output recorded from real commands (docker 20.10, registry:3 containers made by the
 * component's own script, a kind node of the test bed), read by the doctor's unit tests. See
 * recorded/README.md for how each file was made.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { ExecResult } from "../../../components/exec";
import { type ContainerInfo, parseContainers } from "../../../components/doctor/parse";

export function recorded(file: string): string {
  return readFileSync(path.join(__dirname, "recorded", file), "utf8");
}

/** The one container in a recorded `docker container inspect`. */
export function recordedContainer(file: string): ContainerInfo {
  const [c] = parseContainers(recorded(file));
  if (c === undefined) {
    throw new Error(`${file} holds no container`);
  }
  return c;
}

export function ok(stdout: string): ExecResult {
  return { code: 0, stdout, stderr: "", missing: false, timedOut: false };
}

export function failed(code: number, stderr: string, stdout = ""): ExecResult {
  return { code, stdout, stderr, missing: false, timedOut: false };
}

export const NOT_ON_PATH: ExecResult = {
  code: -1,
  stdout: "",
  stderr: "",
  missing: true,
  timedOut: false,
};
