/**
 * Where the test bed keeps its tools and how the real Pulumi engine runs on it. Shared by the
 * integration, end-to-end and benchmark code; imports no test runner, so the benchmark harness
 * can use it as a plain program.
 */
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_DIR = path.resolve(__dirname, "../..");

/** Same rule as test/bed/common.sh. */
export const BED_CACHE =
  process.env["KIND_DEV_BED_CACHE"] ??
  path.join(
    process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"),
    "pulumi-kind-dev-bed",
  );
export const BED_BIN = path.join(BED_CACHE, "bin");

/** The `docker` wrapper kind needs on these machines (see test/bed/docker-wrapper/docker). */
export const WRAPPER_DIR = path.join(REPO_DIR, "test/bed/docker-wrapper");

/**
 * Environment for the real Pulumi engine on the test bed, as test/bed/env.sh sets it: the CLI,
 * language host and kind from $BED_BIN, the exact plugin versions from the bed's PULUMI_HOME,
 * never a download, and a file backend in `backendDir`.
 */
export function pulumiEnv(backendDir: string, pathPrefix = ""): Record<string, string> {
  return {
    PATH: `${pathPrefix}${BED_BIN}:${process.env["PATH"] ?? ""}`,
    PULUMI_HOME: path.join(BED_CACHE, "pulumi-home"),
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "kind-dev-tests",
  };
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean,
  everyMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
