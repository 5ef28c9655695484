/**
 * scripts/lib.sh, through the scripts that start with it: the checks for docker and kind, the
 * lookups by exact name (Docker would also read a name as an ID prefix) and the lock that lets
 * one run at a time act on a cluster, a container or a network.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clusterScript,
  hostsScript,
  networkScript,
  type Script,
  type Step,
} from "../../../components/scripts";
import {
  acts,
  CACHE_SPEC,
  deadPid,
  ensure,
  exited,
  fakeId,
  lines,
  NET,
  readScript,
  REGISTRY_SPEC,
  scriptHarness,
  seed,
} from "./harness";

const h = scriptHarness();

/** Runs lib.sh and then `body` (a few lines of sh) as a script. */
function libScript(body: string, environment: Record<string, string> = {}): Script {
  return { create: `set -eu\n${readScript("lib")}\n${body}\n`, environment };
}

describe("preflight", () => {
  it("fails with a clear message when docker is not on PATH", () => {
    h.withoutTool("docker");
    const r = h.run(networkScript("kind", false));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the docker CLI is not on PATH; install Docker and retry\n",
    );
  });

  it("fails with a clear message, asking nothing else, when the daemon does not answer", () => {
    const r = h.run(hostsScript("n", []), "create", { FAKE_DOCKER_FAIL: "info" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n",
    );
    expect(r.calls.map((c) => c.argv[0])).toEqual(["info"]);
  });

  it("fails with a clear message when kind is not on PATH", () => {
    h.withoutTool("kind");
    const r = h.run(clusterScript("dev", "kind", "kind: Cluster\n"));
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the kind CLI is not on PATH; install kind (https://kind.sigs.k8s.io) and retry\n",
    );
  });
});

describe("names Docker would read as ID prefixes", () => {
  it("the fake engine looks names up as Docker does: by full ID, exact name, then ID prefix", () => {
    const r = h.run(
      libScript(
        "docker rm -f cafe; docker network rm c0ffee; docker volume inspect own || echo no-volume",
      ),
      "create",
      seed({
        containers: [{ id: fakeId("cafe1"), name: "someone-elses" }],
        networks: [{ id: fakeId("c0ffee1"), name: "their-net" }],
        volumes: [{ name: "own-data" }],
      }),
    );
    // What a name made only of hex digits did before: the other stack's objects went.
    expect(r.stdout).toBe("cafe\nc0ffee\n[]\nno-volume\n");
    expect(h.engine().containers).toEqual([]);
    expect(h.engine().networks.map((n) => n.name)).not.toContain("their-net");
  });

  it("container_id_exact and network_id_exact find only the object of that exact name (property)", () => {
    const name = fc.stringMatching(/^[0-9a-f-]{1,5}$/);
    const id = fc.stringMatching(/^[0-9a-f]{1,5}$/).map((p) => (p + fakeId("7")).slice(0, 64));
    const objects = fc.uniqueArray(fc.record({ name, id }), {
      maxLength: 5,
      selector: (o) => o.name,
    });
    fc.assert(
      fc.property(objects, objects, name, (containers, networks, query) => {
        fc.pre(new Set(containers.map((c) => c.id)).size === containers.length);
        fc.pre(new Set(networks.map((n) => n.id)).size === networks.length);
        h.resetEngine();
        const r = h.run(
          libScript(
            'c=$(container_id_exact "$Q") || exit 1; n=$(network_id_exact "$Q") || exit 1; echo "$c/$n"',
            { Q: query },
          ),
          "create",
          seed({ containers, networks }),
        );
        const exact = (list: { name: string; id: string }[]) =>
          list.find((o) => o.name === query)?.id ?? "";
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(`${exact(containers)}/${exact(networks)}\n`);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe("one writer at a time", () => {
  const LOCKED: [string, Script, Step, string, Record<string, string>][] = [
    ["cluster create", clusterScript("dev", "kind", ""), "create", "cluster-dev", {}],
    ["cluster delete", clusterScript("dev", "kind", ""), "delete", "cluster-dev", {}],
    ["registry ensure", ensure(REGISTRY_SPEC), "create", "container-kind-registry", NET],
    [
      "registry remove",
      ensure(REGISTRY_SPEC, { removeOnDelete: true }),
      "delete",
      "container-kind-registry",
      {},
    ],
    ["network ensure", networkScript("kind", true), "create", "network-kind", {}],
    ["network remove", networkScript("kind", true), "delete", "network-kind", {}],
  ];

  function holdLock(name: string, pid: number | ""): string {
    const dir = h.statePath(`locks/${name}.lock`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "what"), "which creates it for proj/other\n");
    if (pid !== "") {
      fs.writeFileSync(path.join(dir, "pid"), `${pid}\n`);
    }
    return dir;
  }

  it.each(LOCKED)(
    "%s waits for the pid that holds its lock, says so once, then gives up leaving it be",
    (_what, script, phase, name, extra) => {
      const holder = h.sleeper();
      const dir = holdLock(name, holder);
      const r = h.run(script, phase, { ...extra, KIND_DEV_LOCK_WAIT: "2" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `pulumi-kind-dev: waiting for pid ${holder}, which creates it for proj/other (at most 2s)\n` +
          `pulumi-kind-dev: gave up after 2s waiting for pid ${holder}, which still works on ${name} (${dir}). Run this again once it is done; if no such process runs, remove the lock: rm -rf '${dir}' '${dir}.break'\n`,
      );
      expect(acts(r.calls)).toEqual([]);
      expect(fs.readFileSync(path.join(dir, "pid"), "utf8")).toBe(`${holder}\n`);
    },
    20_000,
  );

  it("goes on once the holder is done, and leaves no lock behind", async () => {
    const dir = h.statePath("locks/cluster-dev.lock");
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const holder = spawn("sh", [
      "-c",
      `mkdir '${dir}' && echo $$ > '${dir}/pid' && sleep 1 && rm -rf '${dir}'`,
    ]);
    h.reap(holder.pid!);
    await new Promise((r) => setTimeout(r, 300));
    const r = h.run(clusterScript("dev", "kind", ""), "create", { KIND_DEV_LOCK_WAIT: "20" });
    expect(r.status).toBe(0);
    expect(lines(r)[0]).toBe(
      `pulumi-kind-dev: waiting for pid ${holder.pid}, which works on cluster-dev (at most 20s)`,
    );
    expect(r.stderr).not.toContain("taking over");
    expect(fs.readdirSync(path.dirname(dir))).toEqual([]);
  });

  it("takes over a lock whose pid is gone (a run that was killed)", () => {
    const gone = deadPid();
    const dir = holdLock("container-kind-cache-docker-io", gone);
    const r = h.run(ensure(CACHE_SPEC), "create", NET);
    expect(r.status).toBe(0);
    expect(lines(r)[0]).toBe(
      `pulumi-kind-dev: taking over the lock ${dir}: its pid ${gone} is gone (a run that was interrupted)`,
    );
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("takes over a lock that never got a pid, after 5 s", () => {
    const dir = holdLock("network-kind", "");
    const r = h.run(networkScript("kind", true), "create", { KIND_DEV_LOCK_WAIT: "20" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("pulumi-kind-dev: created docker network kind\n");
    expect(fs.existsSync(dir)).toBe(false);
  }, 20_000);

  it("two runs for one container at once: one creates it, the other waits and adopts it", async () => {
    const runs = [
      h.start(ensure(CACHE_SPEC), "create", NET),
      h.start(ensure(CACHE_SPEC), "create", NET),
    ];
    const said = runs.map((c) => {
      let s = "";
      c.stderr!.on("data", (d: Buffer) => (s += d.toString()));
      return () => s;
    });
    const ends = await Promise.all(runs.map(exited));
    expect(ends.map((e) => e.code)).toEqual([0, 0]);
    expect(h.calls().filter((c) => c.argv[0] === "run")).toHaveLength(1);
    expect(h.engine().containers).toHaveLength(1);
    const all = said.map((s) => s()).join("");
    expect(all).toContain("started the cache container kind-cache-docker-io");
    expect(all).toContain("using the existing cache container kind-cache-docker-io");
  }, 20_000);
});
