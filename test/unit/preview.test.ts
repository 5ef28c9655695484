/**
 * During a preview nothing has run: the program must not look for a cluster that is only
 * planned. The command provider answers a preview with the inputs and an id but no stdout, and
 * the kubeconfig is keyed on stdout.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, expect, it, vi } from "vitest";

const reads = vi.hoisted(() => [] as string[]);
vi.mock("../../components/lookup", () => ({
  lookupContainer: async () => ({ state: "absent", repair: "" }),
  readKubeconfig: async (cluster: string) => {
    reads.push(cluster);
    return "kubeconfig";
  },
}));

pulumi.runtime.setMocks(
  {
    newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs } }),
    call: (args) => {
      throw new Error(`unmocked invoke ${args.token}`);
    },
  },
  "kind-dev-test",
  "preview",
  true,
);

type Lib = typeof import("../../components");
let lib: Lib;

beforeAll(async () => {
  lib = await import("../../components");
});

it("does not read the kubeconfig of a cluster that a preview only plans", async () => {
  const env = new lib.KindDevEnvironment("dev", { clusterName: "dev" });
  await new Promise<void>((resolve) => env.urn.apply(() => resolve()));
  await pulumi.runtime.awaitStackRegistrations();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
  }
  expect(reads).toEqual([]);
  // Internal flag, read only to show the output stays unknown rather than empty.
  const known = await (env.kubeconfig as unknown as { isKnown: Promise<boolean> }).isKnown;
  expect(known).toBe(false);
});
