/** components/lookup.ts: what the program asks docker and kind, against the fakes. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerState, readKubeconfig } from "../../components/lookup";

const FAKES = path.resolve(__dirname, "fakes");
const saved = { ...process.env };
let bin: string;

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "kind-dev-lookup-"));
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
  process.env["FAKE_LOG"] = path.join(bin, "calls.jsonl");
});

afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

afterEach(() => {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("FAKE_") && key !== "FAKE_LOG") {
      delete process.env[key];
    }
  }
  process.env["PATH"] = saved["PATH"];
  fs.rmSync(`${process.env["FAKE_LOG"]}.state`, { force: true });
});

function withTools(...tools: string[]): void {
  for (const tool of ["docker", "kind"]) {
    fs.rmSync(path.join(bin, tool), { force: true });
    if (tools.includes(tool)) {
      fs.symlinkSync(path.join(FAKES, tool), path.join(bin, tool));
    }
  }
  process.env["PATH"] = bin;
}

describe("containerState", () => {
  it("is unknown without a docker CLI", async () => {
    withTools();
    expect(await containerState("kind-registry", "kind-registry-data")).toBe("unknown");
  });

  it("is present when the container exists", async () => {
    withTools("docker");
    process.env["FAKE_STATE"] = JSON.stringify({ containers: [{ name: "kind-registry" }] });
    expect(await containerState("kind-registry", "kind-registry-data")).toBe("present");
  });

  it("is missing when only the volume is left", async () => {
    withTools("docker");
    process.env["FAKE_STATE"] = JSON.stringify({ volumes: [{ name: "kind-registry-data" }] });
    expect(await containerState("kind-registry", "kind-registry-data")).toBe("missing");
  });

  it("counts only a container of that exact name, not one whose ID starts with it", async () => {
    withTools("docker");
    process.env["FAKE_STATE"] = JSON.stringify({
      containers: [{ id: "cafe".padEnd(64, "0"), name: "someone-elses" }],
      volumes: [{ name: "cafe-data" }],
    });
    expect(await containerState("cafe", "cafe-data")).toBe("missing");
    expect(await containerState("someone-elses", "x")).toBe("present");
  });

  it("is absent when neither exists", async () => {
    withTools("docker");
    expect(await containerState("kind-registry", "kind-registry-data")).toBe("absent");
  });
});

describe("readKubeconfig", () => {
  it("returns what kind prints", async () => {
    withTools("kind");
    expect(await readKubeconfig("dev")).toBe("kubeconfig-for-dev\n");
  });

  it("says when kind is missing", async () => {
    withTools();
    await expect(readKubeconfig("dev")).rejects.toThrow(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry",
    );
  });

  it("says which cluster could not be read and why", async () => {
    withTools("kind");
    process.env["FAKE_KIND_EXIT"] = "1";
    await expect(readKubeconfig("dev")).rejects.toThrow(
      `pulumi-kind-dev: could not read the kubeconfig of kind cluster "dev" (was it deleted outside Pulumi? then run 'pulumi up --replace' on the cluster resource): ERROR: could not locate any control plane nodes for cluster named 'dev'`,
    );
  });
});
