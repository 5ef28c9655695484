/**
 * scripts/cluster-create.sh, cluster-update.sh and cluster-delete.sh, against the fake kind,
 * which keeps its clusters as node containers in the fake engine. A create that is interrupted
 * leaves a marker; the next run deletes the cluster it left only when the marker proves it.
 */
import * as fs from "node:fs";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clusterScript } from "../../../components/scripts";
import {
  acts,
  deadPid,
  exited,
  fakeId,
  lines,
  type Result,
  scriptHarness,
  seed,
  until,
} from "./harness";

const h = scriptHarness();
const config = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: "dev"\n';
const cluster = clusterScript("dev", "kind", config);
const kindCalls = (r: Result) =>
  r.calls.filter((c) => c.tool === "kind").map((c) => c.argv.slice(0, 4));
/** A file in the package's state directory, as an earlier run left it. */
function leave(file: string, text: string): void {
  fs.mkdirSync(h.statePath(""), { recursive: true });
  fs.writeFileSync(h.statePath(file), text);
}

describe("cluster-create", () => {
  // One that cannot be pulled: test/integration/failures.test.ts.
  it("pulls a node image the stack names before kind runs", () => {
    const image = (nodeImage: string) => clusterScript("dev", "kind", config, nodeImage);
    const present = h.run(
      image("kindest/node:v1.34.0"),
      "create",
      seed({ images: ["kindest/node:v1.34.0"] }),
    );
    expect(present.status).toBe(0);
    expect(present.calls.filter((c) => c.argv[0] === "pull")).toEqual([]);
    h.resetEngine();
    const pulled = h.run(image("kindest/node:v1.34.0"), "create", seed({ images: [] }));
    expect(pulled.status).toBe(0);
    expect(acts(pulled.calls)[0]).toEqual(["pull", "--quiet", "kindest/node:v1.34.0"]);
  });

  it("creates the cluster from the rendered config, leaving no marker and no lock; kind's output goes to a log", () => {
    const r = h.run(cluster);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(kindCalls(r)).toEqual([
      ["get", "clusters"],
      ["create", "cluster", "--name", "dev"],
    ]);
    expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(config);
    const log = h.statePath("kind-create-dev.log");
    expect(r.stderr).toBe(
      `pulumi-kind-dev: created the kind cluster dev (kind's output: ${log})\n`,
    );
    expect(fs.readFileSync(log, "utf8")).toContain(" • kind progress line 18 ...\n");
    expect(fs.readdirSync(h.statePath(""))).toEqual(["kind-create-dev.log", "locks"]);
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("when kind fails: removes the marker, prints kind's last lines and one line naming the log", () => {
    const r = h.run(cluster, "create", { FAKE_KIND_EXIT: "1" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const log = h.statePath("kind-create-dev.log");
    expect(r.stderr).toBe(
      "   • kind progress line 15 ...\n" +
        "   • kind progress line 16 ...\n" +
        "   • kind progress line 17 ...\n" +
        "   • kind progress line 18 ...\n" +
        '  ERROR: failed to create cluster: could not find a log line that matches "Reached target .*Multi-User System.*"\n' +
        `pulumi-kind-dev: could not create the kind cluster dev: kind exited 1 (its last lines above; all of them in ${log}). Fix what it reports, then run pulumi up again; kind removed what it had made.\n`,
    );
    expect(fs.readFileSync(log, "utf8").split("\n")).toHaveLength(21);
    expect(fs.readdirSync(h.statePath(""))).toEqual(["kind-create-dev.log", "locks"]);
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("when kind cannot pull its own node image: names the image and nodeImage", () => {
    // kind v0.33.0's output with no route to Docker Hub.
    const image =
      "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5";
    const r = h.run(cluster, "create", {
      FAKE_KIND_EXIT: "1",
      FAKE_KIND_ERROR:
        `ERROR: failed to create cluster: failed to pull image "${image}": command "docker pull ${image}" failed with error: exit status 1\n\n` +
        'Command Output: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
    });
    expect(r.status).toBe(1);
    const log = h.statePath("kind-create-dev.log");
    expect(r.stderr.split("\n").slice(-4)).toEqual([
      "  ",
      '  Command Output: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      `pulumi-kind-dev: could not create the kind cluster dev: kind could not pull its node image ${image} (Docker's reason above; all of kind's output in ${log}). Make it available (docker pull ${image}) or set nodeImage to a kind node image on this machine, then run pulumi up again.`,
      "",
    ]);
  });

  it("hands kind the config byte for byte whatever it contains (property)", () => {
    const value = fc.string({ unit: "binary", maxLength: 60 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(value, (kindConfig) => {
        h.resetEngine();
        const r = h.run(clusterScript("dev", "kind", kindConfig));
        expect(r.status).toBe(0);
        expect(r.calls.find((c) => c.argv[0] === "create")!.config).toBe(kindConfig);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe("cluster-update (only the script text changed)", () => {
  it("leaves an existing cluster as it is", () => {
    const r = h.run(cluster, "update", { FAKE_KIND_CLUSTERS: "dev\n" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([["get", "clusters"]]);
    expect(r.stderr).toBe("pulumi-kind-dev: kind cluster dev unchanged\n");
  });

  it("fails when the cluster is gone, saying how to make it again", () => {
    const r = h.run(cluster, "update", { FAKE_KIND_CLUSTERS: "other\n" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind cluster dev is gone (deleted outside Pulumi?); run: pulumi up --replace on the cluster resource\n",
    );
  });
});

describe("cluster-delete", () => {
  it("deletes the cluster by name, then kind's create log for it (no other)", () => {
    leave("kind-create-dev.log", "kind output\n");
    leave("kind-create-dev2.log", "kind output\n");
    const r = h.run(cluster, "delete");
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => [c.tool, ...c.argv])).toEqual([
      ["docker", "info"],
      ["kind", "delete", "cluster", "--name", "dev"],
    ]);
    expect(fs.readdirSync(h.statePath(""))).toEqual(["kind-create-dev2.log", "locks"]);
  });

  it("fails when kind does, and keeps kind's create log", () => {
    leave("kind-create-dev.log", "kind output\n");
    const r = h.run(cluster, "delete", { FAKE_KIND_EXIT: "1" });
    expect(fs.existsSync(h.statePath("kind-create-dev.log"))).toBe(true);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'Deleting cluster "dev" ...\n' +
        "pulumi-kind-dev: could not delete the kind cluster dev (see kind's error above); run pulumi destroy again once it is fixed\n",
    );
  });
});

describe("the interrupted create", () => {
  const marker = () => h.statePath("creating-dev");
  const markerText = () => (fs.existsSync(marker()) ? fs.readFileSync(marker(), "utf8") : "");
  const controlPlane = (id: string) =>
    seed({
      containers: [
        {
          id,
          name: "dev-control-plane",
          labels: { "io.x-k8s.kind.cluster": "dev", "io.x-k8s.kind.role": "control-plane" },
        },
      ],
    });
  const writeMarker = (text: string) => leave("creating-dev", text);

  it.each(["SIGTERM", "SIGINT", "SIGKILL"] as const)(
    "killed by %s while kind runs: kind goes on, the marker stays and records the node; the next run deletes that cluster and creates it again",
    async (signal) => {
      const child = h.start(cluster, "create", {
        FAKE_KIND_NODE_DELAY: "1",
        FAKE_KIND_CREATE_SLEEP: "60",
      });
      // kind has read its config (the script removes the file when it exits) and begun.
      const log = h.statePath("kind-create-dev.log");
      await until(
        "kind to begin, and the marker to name it and its watcher",
        () =>
          /^watcher \d+$/m.test(markerText()) &&
          fs.existsSync(log) &&
          fs.readFileSync(log, "utf8").startsWith('Creating cluster "dev"'),
      );
      const kindPid = Number(/^pid (\d+)$/m.exec(markerText())![1]);
      h.reap(kindPid);
      child.kill(signal);
      const end = await exited(child);
      expect(end.code ?? end.signal).toBe(
        { SIGTERM: 143, SIGINT: 130, SIGKILL: "SIGKILL" }[signal],
      );
      // The watcher outlives the script, as kind does, and writes the control-plane's ID.
      await until("the watcher to record the node", () =>
        /^node [0-9a-f]{64}$/m.test(markerText()),
      );
      const node = /^node ([0-9a-f]{64})$/m.exec(markerText())![1]!;
      expect(h.engine().containers.map((c) => c.id)).toEqual([node]);
      expect(() => process.kill(kindPid, 0)).not.toThrow();

      const r = h.run(cluster, "create", { FAKE_KIND_CREATE_SLEEP: "0" });
      expect(r.status).toBe(0);
      const lock = h.statePath("locks/cluster-dev.lock");
      expect(lines(r)).toEqual([
        ...(signal === "SIGKILL"
          ? [
              `pulumi-kind-dev: taking over the lock ${lock}: its pid ${child.pid} is gone (a run that was interrupted)`,
            ]
          : []),
        `pulumi-kind-dev: stopping kind (pid ${kindPid}), still creating dev for the interrupted run`,
        "pulumi-kind-dev: the kind cluster dev is left from an interrupted run (its creation never finished): deleting it and creating it again",
        `pulumi-kind-dev: created the kind cluster dev (kind's output: ${log})`,
      ]);
      expect(() => process.kill(kindPid, 0)).toThrow();
      const after = h.engine().containers;
      expect(after).toHaveLength(1);
      expect(after[0]!.id).not.toBe(node);
      expect(fs.existsSync(marker())).toBe(false);
    },
    30_000,
  );

  it.each([
    ["another node's", () => `begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`],
    ["one that names no node", () => `begun 1\npid ${deadPid()}\nwatcher ${deadPid()}\n`],
    ["the version before's (a bare pid)", () => `${deadPid()}\n`],
  ])("a marker that is %s proves nothing: the cluster was made some other way", (_what, text) => {
    writeMarker(text());
    const r = h.run(cluster, "create", controlPlane(fakeId("bb")));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: a kind cluster named dev already exists and is not in this stack: an interrupted run left the marker ${marker()}, but this cluster's control-plane container is not the one that run began, so it was made some other way and is left alone. Delete it (kind delete cluster --name dev) or choose another clusterName.\n`,
    );
    expect(acts(r.calls)).toEqual([]);
    expect(h.engine().containers.map((c) => c.id)).toEqual([fakeId("bb")]);
  });

  it("a marker whose cluster is gone: creates the cluster, and the new marker goes at the end", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`);
    const r = h.run(cluster, "create");
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker())).toBe(false);
  });

  it("a marker whose node matches, kind long gone: deletes and creates again without stopping anything", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`);
    const r = h.run(cluster, "create", controlPlane(fakeId("aa")));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([
      ["kind", "delete", "cluster", "--name", "dev"],
      expect.arrayContaining(["kind", "create", "cluster", "--name", "dev"]),
    ]);
  });
});
