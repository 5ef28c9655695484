import type { Exec } from "../exec";
import { parseVolumeSizes } from "./parse";

/**
 * Every volume's size as `docker system df -v` measures it (file sizes, 4 significant digits).
 * The daemon runs one disk-usage walk at a time and refuses a second one meanwhile, so a
 * refusal is retried for a few seconds. Undefined when docker cannot tell.
 */
export async function readVolumeSizes(exec: Exec): Promise<Record<string, number | null> | null> {
  for (let attempt = 0; ; attempt++) {
    const r = await exec("docker", ["system", "df", "-v", "--format", "{{json .Volumes}}"], {
      timeoutMs: 120_000,
    });
    if (r.code === 0) {
      return parseVolumeSizes(r.stdout);
    }
    if (!/already running/.test(r.stderr) || attempt >= 20) {
      return null;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
