/** Synthetic images: FROM pause (its one tiny layer is on every node already), random layers. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { run } from "../support/bed";
import { PAUSE, state } from "./context";

/** Builds `tag` from pause and one layer of random bytes per size (MiB) in `layers`. */
export function buildImage(tag: string, layers: number[], dir?: string): void {
  const work = dir ?? mkdtempSync(path.join(state.workDir, "img-"));
  layers.forEach((mib, i) =>
    run("sh", ["-c", `head -c ${Math.round(mib * 1048576)} /dev/urandom > "$0"`, `${work}/l${i}`]),
  );
  const copies = layers.map((_, i) => `COPY l${i} /l${i}`);
  writeFileSync(path.join(work, "Dockerfile"), [`FROM ${PAUSE}`, ...copies, ""].join("\n"));
  run("docker", ["build", "-q", "-t", tag, work], { env: { DOCKER_BUILDKIT: "0" } });
  if (dir === undefined) {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A cold and an incremental image for one delivery: layers of about 128 MiB (at least 2) plus a
 * 10 MiB top layer, which alone differs in the incremental one.
 */
export function buildPair(name: string, totalMiB: number): { cold: string; incr: string } {
  const dir = mkdtempSync(path.join(state.workDir, "img-"));
  const n = Math.max(2, Math.round(totalMiB / 128));
  const layers = [...Array<number>(n).fill((totalMiB - 10) / n), 10];
  buildImage(`${name}:cold`, layers, dir);
  // Only the top layer's file is written anew: the others keep their content, so their layers.
  const top = `l${n}`;
  run("sh", ["-c", `head -c ${10 * 1048576} /dev/urandom > "$0"`, path.join(dir, top)]);
  run("docker", ["build", "-q", "-t", `${name}:incr`, dir], { env: { DOCKER_BUILDKIT: "0" } });
  rmSync(dir, { recursive: true, force: true });
  return { cold: `${name}:cold`, incr: `${name}:incr` };
}

export const imageBytes = (ref: string) =>
  Number(run("docker", ["image", "inspect", "-f", "{{.Size}}", ref]).trim());
