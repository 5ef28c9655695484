/** components/lookup.ts: what the program asks docker and kind, against fakes. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerState, contextBuilder, readKubeconfig } from "../../components/lookup";

const FAKES = path.resolve(__dirname, "fakes");
const saved = { ...process.env };
let bin: string;

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-lookup-"));
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
});

afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

afterEach(() => {
  for (const key of Object.keys(process.env).filter((k) => !(k in saved))) {
    delete process.env[key];
  }
  Object.assign(process.env, saved);
  fs.rmSync(path.join(bin, "calls.jsonl.state"), { force: true });
});

/** PATH holds only these fakes; the fake engine starts from `state`. */
function withTools(tools: string[], state: object = {}, env: Record<string, string> = {}): void {
  for (const tool of ["docker", "kind"]) {
    fs.rmSync(path.join(bin, tool), { force: true });
    if (tools.includes(tool)) {
      fs.symlinkSync(path.join(FAKES, tool), path.join(bin, tool));
    }
  }
  const log = path.join(bin, "calls.jsonl");
  Object.assign(process.env, { PATH: bin, FAKE_LOG: log, FAKE_STATE: JSON.stringify(state) }, env);
}

describe("containerState", () => {
  // present, missing and absent against a real engine: test/integration/registry.test.ts.
  it("is unknown without a docker CLI", async () => {
    withTools([]);
    expect(await containerState("kind-registry", "kind-registry-data")).toBe("unknown");
  });

  it("counts only a container of that exact name, not one whose ID starts with it", async () => {
    withTools(["docker"], {
      containers: [{ id: "cafe".padEnd(64, "0"), name: "someone-elses" }],
      volumes: [{ name: "cafe-data" }],
    });
    expect(await containerState("cafe", "cafe-data")).toBe("missing");
    expect(await containerState("someone-elses", "x")).toBe("present");
  });
});

describe("readKubeconfig", () => {
  it("returns what kind prints", async () => {
    withTools(["kind"]);
    expect(await readKubeconfig("dev")).toBe("kubeconfig-for-dev\n");
  });

  it("says when kind is missing", async () => {
    withTools([]);
    await expect(readKubeconfig("dev")).rejects.toThrow(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry",
    );
  });

  it("says which cluster could not be read and why", async () => {
    withTools(["kind"], {}, { FAKE_KIND_EXIT: "1" });
    await expect(readKubeconfig("dev")).rejects.toThrow(
      `pulumi-kind-dev: could not read the kubeconfig of kind cluster "dev" (was it deleted outside Pulumi? then run 'pulumi up --replace' on the cluster resource): ERROR: could not locate any control plane nodes for cluster named 'dev'`,
    );
  });
});

describe("contextBuilder", () => {
  /** A docker CLI that answers `context show` and `buildx version` as the script says. */
  function docker(script: string): void {
    withTools([]);
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\ncase "$1 $2" in\n${script}\nesac\n`, {
      mode: 0o755,
    });
  }
  const buildx = `"buildx version") echo "github.com/docker/buildx v0.35.0 abc" ;;`;

  it("is the current docker context's name", () => {
    docker(`"context show") echo desktop-linux ;;\n${buildx}`);
    expect(contextBuilder()).toBe("desktop-linux");
  });

  it("says when the buildx plugin is missing", () => {
    docker(
      `"context show") echo default ;;\n"buildx version") echo "docker: unknown command: docker buildx" >&2; exit 1 ;;`,
    );
    expect(() => contextBuilder()).toThrow(
      "pulumi-kind-dev: LocalImage builds with 'docker buildx', and 'docker buildx version' failed: install Docker's buildx plugin (Docker Desktop and Docker CE include it; https://github.com/docker/buildx#installing) and retry.",
    );
  });

  it("refuses a context it cannot read, and says when docker is missing", () => {
    docker(`"context show") echo "no context" >&2; exit 1 ;;\n${buildx}`);
    expect(() => contextBuilder()).toThrow(
      "pulumi-kind-dev: LocalImage could not read the current docker context ('docker context show': no context)",
    );
    withTools([]);
    expect(() => contextBuilder()).toThrow(
      "pulumi-kind-dev: LocalImage needs the docker CLI on PATH; install Docker and retry",
    );
  });
});
