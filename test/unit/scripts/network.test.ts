/** scripts/network-ensure.sh and scripts/network-remove.sh. */
import { describe, expect, it } from "vitest";
import { LABEL_MANAGED } from "../../../components/render/containerSpecs";
import { networkScript } from "../../../components/scripts";
import { acts, fakeId, NET, NETWORK_LS, OURS, scriptHarness, seed } from "./harness";

const h = scriptHarness();
const FOREIGN = seed({ networks: [{ name: "kind" }] });

describe("network-ensure", () => {
  it("creates the network, with this package's label, when none has that exact name", () => {
    // A network whose ID starts with the name is another one.
    const decoy = { id: fakeId("c0ffee2"), name: "their-net", labels: OURS };
    const r = h.run(networkScript("c0ffee", false), "create", seed({ networks: [decoy] }));
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      ["network", "create", "--label", "dev.pulumi-kind-dev.managed=true", "c0ffee"],
    ]);
    expect(r.stderr).toBe("pulumi-kind-dev: created docker network c0ffee\n");
    expect(h.engine().networks.find((n) => n.name === "c0ffee")!.labels).toEqual({
      [LABEL_MANAGED]: "true",
    });
    expect(h.engine().networks.map((n) => n.name)).toContain("their-net");
  });

  it.each([
    [NET, "pulumi-kind-dev: using existing docker network kind\n"],
    [
      FOREIGN,
      "pulumi-kind-dev: using existing docker network kind (not created by pulumi-kind-dev, so never removed by it)\n",
    ],
  ])("reuses an existing network, whoever made it (%#)", (world, message) => {
    const r = h.run(networkScript("kind", false), "create", world);
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    expect(r.stderr).toBe(message);
  });
});

describe("network-remove", () => {
  it("is there only when the network is not retained; it removes its own network by ID", () => {
    expect(networkScript("kind", false).delete).toBeUndefined();
    const id = fakeId("1a");
    const world = seed({ networks: [{ id, name: "kind", labels: OURS }] });
    const r = h.run(networkScript("kind", true), "delete", world);
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      ["network", "inspect", "--format", '{{index .Labels "dev.pulumi-kind-dev.managed"}}', id],
      ["network", "rm", id],
    ]);
    expect(r.stderr).toBe("pulumi-kind-dev: removed docker network kind\n");
  });

  it.each([
    [
      "one this package did not create (kind's, another tool's)",
      FOREIGN,
      "pulumi-kind-dev: kept docker network kind: pulumi-kind-dev did not create it (kind or another tool did, or an earlier version of this package), so it is not this stack's to remove. Remove it by hand (docker network rm kind) once nothing uses it.\n",
    ],
    [
      "one containers are still attached to",
      seed({
        networks: [{ name: "kind", labels: OURS }],
        containers: [{ name: "dev-control-plane", networks: ["kind"] }],
      }),
      "pulumi-kind-dev: kept docker network kind: containers are still attached to it (docker network inspect kind)\n",
    ],
  ])("keeps %s", (_what, world, message) => {
    const before = JSON.parse(world.FAKE_STATE!).networks;
    const r = h.run(networkScript("kind", true), "delete", world);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(message);
    expect(h.engine().networks.slice(3)).toMatchObject(before);
  });

  // The daemon down from the start: test/integration/ownership.test.ts, case 2.
  it.each([
    ["docker network ls fails", "network ls"],
    ["docker network inspect fails", "network inspect"],
  ])("fails in one line when %s, removing nothing", (_what, failed) => {
    const r = h.run(networkScript("kind", true), "delete", { ...NET, FAKE_DOCKER_FAIL: failed });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: the Docker daemon does not answer ('docker ${failed}' failed); start Docker and retry\n`,
    );
    expect(acts(r.calls)).toEqual([]);
  });
});
