/** Synthetic images: FROM pause (its one tiny layer is on every node already), random layers. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { run } from "../support/bed";
import { PAUSE, state } from "./context";

// Synthetic images: FROM pause (its one tiny layer is on every node already), random layers.

export function randomFile(file: string, mib: number): void {
  run("sh", ["-c", `head -c ${Math.round(mib * 1048576)} /dev/urandom > "$0"`, file]);
}

/** Builds `tag` from `dir` (layer files l0..lN-1 and top); returns the file list written. */
export function buildImage(dir: string, files: string[], tag: string): void {
  const df = [`FROM ${PAUSE}`, ...files.map((f) => `COPY ${f} /${f}`)].join("\n") + "\n";
  writeFileSync(path.join(dir, "Dockerfile"), df);
  run("docker", ["build", "-q", "-t", tag, dir], {
    env: { DOCKER_BUILDKIT: "0" },
  });
}

/** Layout: k layers of equal size plus a 10 MiB top layer; k about one per 128 MiB, at least 2. */
export function layerPlan(totalMiB: number): { layers: number; each: number; top: number } {
  const top = 10;
  const layers = Math.max(2, Math.round(totalMiB / 128));
  return { layers, each: (totalMiB - top) / layers, top };
}

/** Builds a cold and an incremental (new top layer) image for one delivery test. */
export function buildPair(name: string, totalMiB: number): { cold: string; incr: string } {
  const dir = mkdtempSync(path.join(state.workDir, "img-"));
  const plan = layerPlan(totalMiB);
  const files: string[] = [];
  for (let i = 0; i < plan.layers; i++) {
    randomFile(path.join(dir, `l${i}`), plan.each);
    files.push(`l${i}`);
  }
  randomFile(path.join(dir, "top"), plan.top);
  files.push("top");
  const cold = `${name}:cold`;
  const incr = `${name}:incr`;
  buildImage(dir, files, cold);
  randomFile(path.join(dir, "top"), plan.top);
  buildImage(dir, files, incr);
  rmSync(dir, { recursive: true, force: true });
  return { cold, incr };
}

export function imageBytes(ref: string): number {
  return Number(run("docker", ["image", "inspect", "-f", "{{.Size}}", ref]).trim());
}
