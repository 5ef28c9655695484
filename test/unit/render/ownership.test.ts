/**
 * Issue #19: what the scripts may touch. Docker objects are found by exact name (Docker would
 * also read a name as an ID prefix) and only this package's are removed or replaced; remove
 * steps fail when docker does not answer; a cluster is deleted as the leftover of an interrupted
 * create only when the marker proves it; one writer at a time per cluster and container; a
 * container shared by stacks is not replaced back and forth; a new image is there before the old
 * container goes; no label carries anything derived from a credential. Run against the fake
 * docker and kind (test/unit/fakes), which look names up as Docker does.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  cacheContainerSpec,
  type ContainerSpec,
  describeSettings,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_ROLE,
  LABEL_SETTINGS,
  LABEL_SPEC,
  registryContainerSpec,
  specHash,
} from "../../../components/render/containerSpecs";
import {
  clusterScript,
  networkScript,
  registryContainerScript,
  type Script,
} from "../../../components/scripts";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";
import {
  acts,
  type EngineContainer,
  exited,
  fakeId,
  type Result,
  scriptHarness,
  seed,
  type Seed,
  until,
} from "./harness";

const h = scriptHarness();
const LIB = fs.readFileSync(path.resolve(__dirname, "../../../components/scripts/lib.sh"), "utf8");

/** Processes a test started that may outlive it (sleepers, a kind that was not stopped). */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** A process that lives until killed: a lock holder. Returns its pid. */
function sleeper(seconds = 60): number {
  const child = spawn("sleep", [String(seconds)], { stdio: "ignore" });
  started.push(child.pid!);
  return child.pid!;
}

/** A pid that no process has any more. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

/** Runs lib.sh and then `body` (a few lines of sh) as a script. */
function libScript(body: string, environment: Record<string, string> = {}): Script {
  return { create: `set -eu\n${LIB}\n${body}\n`, environment };
}

const registrySpec = registryContainerSpec(REGISTRY_INPUT);
const cacheSpec = cacheContainerSpec(DOCKER_HUB_CACHE_INPUT);
/** curl reads it at once: the registry "answers". */
const PROBE = "file:///dev/null";

function ensure(
  spec: ContainerSpec,
  options: { owner?: string; secretEnv?: Record<string, string>; removeOnDelete?: boolean } = {},
): Script {
  return registryContainerScript({
    spec,
    probeUrl: spec.role === "registry" ? PROBE : undefined,
    secretEnv: options.secretEnv ?? {},
    state: "absent",
    removeOnDelete: options.removeOnDelete ?? false,
    ...(options.owner === undefined ? {} : { owner: options.owner }),
  });
}

/** A container as registry-ensure.sh makes it for `spec` (and these credentials, this owner). */
function made(
  spec: ContainerSpec,
  over: {
    id?: string;
    owner?: string;
    secretEnv?: Record<string, string>;
    running?: boolean;
    image?: string;
  } = {},
): Partial<EngineContainer> & { name: string } {
  const secretEnv = over.secretEnv ?? {};
  const names = Object.keys(secretEnv).sort();
  return {
    id: over.id ?? fakeId("0d"),
    name: spec.name,
    image: over.image ?? spec.image,
    labels: {
      [LABEL_MANAGED]: "true",
      [LABEL_ROLE]: spec.role,
      [LABEL_SPEC]: specHash(spec, names),
      [LABEL_SETTINGS]: describeSettings(spec, names),
      ...(over.owner === undefined ? {} : { [LABEL_OWNER]: over.owner }),
    },
    env: [...Object.entries(spec.env), ...Object.entries(secretEnv)].map(([k, v]) => `${k}=${v}`),
    running: over.running ?? true,
    networks: [spec.network],
    volumes: [spec.volume],
  };
}

/** The network and the volume of `spec`, both this package's, and these containers. */
function world(spec: ContainerSpec, containers: Seed["containers"] = [], extra: Seed = {}) {
  return seed({
    networks: [
      { name: spec.network, labels: { [LABEL_MANAGED]: "true" } },
      ...(extra.networks ?? []),
    ],
    volumes: [{ name: spec.volume, labels: { [LABEL_MANAGED]: "true" } }, ...(extra.volumes ?? [])],
    containers: [...containers, ...(extra.containers ?? [])],
    ...(extra.images === undefined ? {} : { images: extra.images }),
  });
}

const lines = (r: Result) => r.stderr.split("\n").filter((l) => l !== "");

describe("names Docker would read as ID prefixes (case 1)", () => {
  it("the fake engine looks names up as Docker does: by full ID, exact name, then ID prefix", () => {
    const decoy = fakeId("cafe1");
    const r = h.run(
      libScript(
        "docker rm -f cafe; docker network rm c0ffee; docker volume inspect own || echo no-volume",
      ),
      "create",
      seed({
        containers: [{ id: decoy, name: "someone-elses" }],
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
            {
              Q: query,
            },
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

  it("registry-remove leaves a container whose ID starts with the name, even one of ours", () => {
    const spec = { ...cacheSpec, name: "cafe", volume: "cafe-data" };
    const decoy = { ...made(cacheSpec), id: fakeId("cafe2") };
    const r = h.run(ensure(spec, { removeOnDelete: true }), "delete", world(spec, [decoy]));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([["volume", "rm", "cafe-data"]]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: removed the volume cafe-data; the container cafe was already gone\n",
    );
    expect(h.engine().containers.map((c) => c.id)).toEqual([decoy.id]);
  });

  it("registry-ensure makes its own container instead of adopting or replacing the prefix match", () => {
    const spec = { ...cacheSpec, name: "cafe", volume: "cafe-data" };
    const decoy = { ...made(cacheSpec), id: fakeId("cafe3") };
    const r = h.run(ensure(spec), "create", world(spec, [decoy]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 4))).toEqual([
      ["run", "--detach", "--name", "cafe"],
    ]);
    expect(
      h
        .engine()
        .containers.map((c) => c.name)
        .sort(),
    ).toEqual(["cafe", cacheSpec.name]);
  });

  it("network steps use and remove only the network of that exact name", () => {
    const decoy = { id: fakeId("c0ffee2"), name: "their-net", labels: { [LABEL_MANAGED]: "true" } };
    const removed = h.run(networkScript("c0ffee", true), "delete", seed({ networks: [decoy] }));
    expect(removed.status).toBe(0);
    expect(removed.stderr).toBe("pulumi-kind-dev: docker network c0ffee is already gone\n");
    expect(acts(removed.calls)).toEqual([]);
    h.resetEngine();
    const created = h.run(networkScript("c0ffee", true), "create", seed({ networks: [decoy] }));
    expect(created.status).toBe(0);
    expect(created.stderr).toBe("pulumi-kind-dev: created docker network c0ffee\n");
    expect(h.engine().networks.map((n) => n.name)).toEqual(
      expect.arrayContaining(["their-net", "c0ffee"]),
    );
  });

  it("registry-remove removes nothing but the labelled container and volume of that exact name (property)", () => {
    const name = fc.constantFrom("cafe", "cafe-1", "kind-cache-docker-io", "c", "kind");
    const container = fc.record({
      name,
      id: fc
        .constantFrom("cafe", "c", "ca", "1", "kind")
        .map((p) => (p.replace(/[^0-9a-f]/g, "") + fakeId("9")).slice(0, 64)),
      managed: fc.boolean(),
    });
    const containers = fc.uniqueArray(container, { maxLength: 4, selector: (c) => c.name });
    fc.assert(
      fc.property(containers, name, fc.boolean(), (list, target, volumeManaged) => {
        fc.pre(new Set(list.map((c) => c.id)).size === list.length);
        h.resetEngine();
        const spec = { ...cacheSpec, name: target, volume: `${target}-data` };
        const before = list.map((c) => ({
          id: c.id,
          name: c.name,
          labels: (c.managed ? { [LABEL_MANAGED]: "true" } : {}) as Record<string, string>,
        }));
        const r = h.run(
          ensure(spec, { removeOnDelete: true }),
          "delete",
          seed({
            networks: [{ name: "kind" }],
            volumes: [
              { name: spec.volume, labels: volumeManaged ? { [LABEL_MANAGED]: "true" } : {} },
            ],
            containers: before,
          }),
        );
        expect(r.status).toBe(0);
        const gone = before.filter((c) => !h.engine().containers.some((x) => x.id === c.id));
        const ours = before.filter((c) => c.name === target && c.labels[LABEL_MANAGED] === "true");
        expect(gone).toEqual(ours);
        expect(h.engine().volumes.some((v) => v.name === spec.volume)).toBe(!volumeManaged);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe("remove steps fail when docker does not answer (case 2)", () => {
  const cache = () => ensure(cacheSpec, { removeOnDelete: true });
  const both = () => world(cacheSpec, [made(cacheSpec)]);
  const unchanged = () => {
    expect(h.engine().containers.map((c) => c.name)).toEqual([cacheSpec.name]);
    expect(h.engine().volumes.map((v) => v.name)).toEqual([cacheSpec.volume]);
  };

  it.each([
    ["the daemon is down", { FAKE_DOCKER_DOWN: "1" }, "docker info"],
    [
      "docker ps fails (the daemon stopped after docker info)",
      { FAKE_DOCKER_FAIL: "ps" },
      "docker ps",
    ],
    ["docker network ls fails", { FAKE_DOCKER_FAIL: "network ls" }, "docker network ls"],
    [
      "the container lookup fails",
      { FAKE_DOCKER_FAIL: "container inspect" },
      "docker container inspect",
    ],
  ])("registry-remove: %s -> fails in one line, removes nothing", (_what, fault, failed) => {
    const r = h.run(cache(), "delete", { ...both(), ...fault });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: the Docker daemon does not answer ('${failed}' failed); start Docker and retry\n`,
    );
    expect(acts(r.calls)).toEqual([]);
    h.run(libScript("docker version >/dev/null"), "create", both());
    unchanged();
  });

  it("registry-remove: docker stops between the container and the volume -> fails; the next run finishes", () => {
    const r = h.run(cache(), "delete", { ...both(), FAKE_DOCKER_FAIL: "volume ls" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker volume ls' failed); start Docker and retry\n",
    );
    // The step failed: Pulumi keeps the command in its state, and the next destroy goes on.
    const again = h.run(cache(), "delete");
    expect(again.status).toBe(0);
    expect(again.stderr).toBe(
      "pulumi-kind-dev: removed the volume kind-cache-docker-io-data; the container kind-cache-docker-io was already gone\n",
    );
  });

  it.each([
    ["the daemon is down", { FAKE_DOCKER_DOWN: "1" }, "docker info"],
    ["docker network ls fails", { FAKE_DOCKER_FAIL: "network ls" }, "docker network ls"],
    [
      "docker network inspect fails",
      { FAKE_DOCKER_FAIL: "network inspect" },
      "docker network inspect",
    ],
  ])("network-remove: %s -> fails in one line, removes nothing", (_what, fault, failed) => {
    const r = h.run(networkScript("kind", true), "delete", {
      FAKE_NETWORK_EXISTS: "1",
      ...fault,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: the Docker daemon does not answer ('${failed}' failed); start Docker and retry\n`,
    );
    expect(acts(r.calls)).toEqual([]);
  });

  it("cluster-delete: the daemon is down -> fails before kind runs", () => {
    const r = h.run(clusterScript("dev", "kind", ""), "delete", { FAKE_DOCKER_DOWN: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the Docker daemon does not answer ('docker info' failed); start Docker and retry\n",
    );
    expect(r.calls.filter((c) => c.tool === "kind")).toEqual([]);
  });
});

describe("the interrupted create (case 3)", () => {
  const create = clusterScript("dev", "kind", "kind: Cluster\n");
  const marker = () => h.statePath("creating-dev");
  const markerText = () => (fs.existsSync(marker()) ? fs.readFileSync(marker(), "utf8") : "");
  const controlPlane = (id: string) => ({
    id,
    name: "dev-control-plane",
    labels: { "io.x-k8s.kind.cluster": "dev", "io.x-k8s.kind.role": "control-plane" },
  });
  function writeMarker(text: string): void {
    fs.mkdirSync(h.statePath(""), { recursive: true });
    fs.writeFileSync(marker(), text);
  }

  it.each(["SIGTERM", "SIGINT", "SIGKILL"] as const)(
    "killed by %s while kind runs: kind goes on, the marker stays and records the node; the next run deletes that cluster and creates it again",
    async (signal) => {
      const child: ChildProcess = h.start(create, "create", {
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
      started.push(kindPid);
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

      const r = h.run(create, "create", { FAKE_KIND_CREATE_SLEEP: "0" });
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

  it("a cluster made some other way after an interrupted run is left alone (its node is not the marker's)", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`);
    const r = h.run(create, "create", seed({ containers: [controlPlane(fakeId("bb"))] }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: a kind cluster named dev already exists and is not in this stack: an interrupted run left the marker ${marker()}, but this cluster's control-plane container is not the one that run began, so it was made some other way and is left alone. Delete it (kind delete cluster --name dev) or choose another clusterName.\n`,
    );
    expect(acts(r.calls)).toEqual([]);
    expect(h.engine().containers.map((c) => c.id)).toEqual([fakeId("bb")]);
  });

  it("a marker that names no node proves nothing: the cluster is left alone", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nwatcher ${deadPid()}\n`);
    const r = h.run(create, "create", seed({ containers: [controlPlane(fakeId("bb"))] }));
    expect(r.status).toBe(1);
    expect(acts(r.calls)).toEqual([]);
  });

  it("the marker of the version before (a bare pid) proves nothing either", () => {
    writeMarker(`${deadPid()}\n`);
    const r = h.run(create, "create", seed({ containers: [controlPlane(fakeId("bb"))] }));
    expect(r.status).toBe(1);
    expect(acts(r.calls)).toEqual([]);
  });

  it("a marker whose cluster is gone: creates the cluster, and the new marker goes at the end", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`);
    const r = h.run(create, "create");
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker())).toBe(false);
  });

  it("a marker whose node matches, kind long gone: deletes and creates again without stopping anything", () => {
    writeMarker(`begun 1\npid ${deadPid()}\nnode ${fakeId("aa")}\n`);
    const r = h.run(create, "create", seed({ containers: [controlPlane(fakeId("aa"))] }));
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([
      ["kind", "delete", "cluster", "--name", "dev"],
      expect.arrayContaining(["kind", "create", "cluster", "--name", "dev"]),
    ]);
  });
});

describe("one writer at a time (case 4)", () => {
  const LOCKED: [string, Script, "create" | "delete", string, Record<string, string>][] = [
    ["cluster create", clusterScript("dev", "kind", ""), "create", "cluster-dev", {}],
    ["cluster delete", clusterScript("dev", "kind", ""), "delete", "cluster-dev", {}],
    [
      "registry ensure",
      ensure(registrySpec),
      "create",
      "container-kind-registry",
      { FAKE_NETWORK_EXISTS: "1" },
    ],
    [
      "registry remove",
      ensure(registrySpec, { removeOnDelete: true }),
      "delete",
      "container-kind-registry",
      {},
    ],
    ["network ensure", networkScript("kind", true), "create", "network-kind", {}],
    ["network remove", networkScript("kind", true), "delete", "network-kind", {}],
  ];

  function holdLock(
    name: string,
    pid: number | "",
    what = "which creates it for proj/other",
  ): string {
    const dir = h.statePath(`locks/${name}.lock`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "what"), `${what}\n`);
    if (pid !== "") {
      fs.writeFileSync(path.join(dir, "pid"), `${pid}\n`);
    }
    return dir;
  }

  it.each(LOCKED)(
    "%s waits for the pid that holds its lock, says so once, then gives up leaving it be",
    (_what, script, phase, name, extra) => {
      const holder = sleeper();
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

  it("goes on once the holder is done, and leaves no lock behind", () => {
    const dir = h.statePath("locks/cluster-dev.lock");
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const holder = spawn("sh", [
      "-c",
      `mkdir '${dir}' && echo $$ > '${dir}/pid' && sleep 1 && rm -rf '${dir}'`,
    ]);
    started.push(holder.pid!);
    spawnSync("sleep", ["0.3"]);
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
    const r = h.run(ensure(cacheSpec), "create", { FAKE_NETWORK_EXISTS: "1" });
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
    const env = { FAKE_NETWORK_EXISTS: "1" };
    const runs = [
      h.start(ensure(cacheSpec), "create", env),
      h.start(ensure(cacheSpec), "create", env),
    ];
    const errs = runs.map((c) => {
      let s = "";
      c.stderr!.on("data", (d: Buffer) => (s += d.toString()));
      return () => s;
    });
    const ends = await Promise.all(runs.map(exited));
    expect(ends.map((e) => e.code)).toEqual([0, 0]);
    expect(h.calls().filter((c) => c.argv[0] === "run")).toHaveLength(1);
    expect(h.engine().containers).toHaveLength(1);
    const said = errs.map((e) => e()).join("");
    expect(said).toContain("started the cache container kind-cache-docker-io");
    expect(said).toContain("using the existing cache container kind-cache-docker-io");
  }, 20_000);
});

describe("a container two stacks share (case 4)", () => {
  const ttl = cacheContainerSpec({ ...DOCKER_HUB_CACHE_INPUT, ttl: "72h", hostPort: 5002 });

  it("another stack's container with other settings is refused, naming both stacks and what differs", () => {
    const r = h.run(
      ensure(cacheSpec, { owner: "shop/test" }),
      "create",
      world(cacheSpec, [made(ttl, { owner: "shop/dev" })]),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the cache container kind-cache-docker-io was created by shop/dev with other settings than shop/test asks for (publish 127.0.0.1:5002:5000 -> none, env.REGISTRY_PROXY_TTL 72h -> (none)), so it is left as it is: replacing it would undo shop/dev's settings, and shop/dev would replace it back. Give both the same settings, or one of them another container name; if shop/dev no longer uses it, remove it (docker rm -f kind-cache-docker-io; the volume kind-cache-docker-io-data and its data stay) and run pulumi up again.\n",
    );
    expect(acts(r.calls)).toEqual([]);
  });

  it("no flip-flop: the first stack keeps its container, the second is refused at every run", () => {
    const dev = ensure(ttl, { owner: "shop/dev" });
    const test = ensure(cacheSpec, { owner: "shop/test" });
    const env = { FAKE_NETWORK_EXISTS: "1" };
    expect(h.run(dev, "create", env).status).toBe(0);
    const id = h.engine().containers[0]!.id;
    for (const [script, status] of [
      [test, 1],
      [dev, 0],
      [test, 1],
    ] as const) {
      expect(h.run(script, "create", env).status).toBe(status);
      expect(h.engine().containers.map((c) => c.id)).toEqual([id]);
    }
    expect(h.calls().filter((c) => c.argv[0] === "run" || c.argv[0] === "rm")).toHaveLength(1);
  });

  it("another stack's container with the same settings is shared as it is", () => {
    const r = h.run(
      ensure(cacheSpec, { owner: "shop/test" }),
      "create",
      world(cacheSpec, [made(cacheSpec, { owner: "shop/dev" })]),
    );
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    expect(h.engine().containers[0]!.labels[LABEL_OWNER]).toBe("shop/dev");
  });

  it("its own container with other settings is replaced, and so is one from before owners", () => {
    for (const owner of ["shop/test", undefined]) {
      h.resetEngine();
      const r = h.run(
        ensure(cacheSpec, { owner: "shop/test" }),
        "create",
        world(cacheSpec, [made(ttl, owner === undefined ? {} : { owner })]),
      );
      expect(r.status).toBe(0);
      expect(lines(r)[0]).toBe(
        "pulumi-kind-dev: replacing the cache container kind-cache-docker-io, whose configuration changed; data stays on volume kind-cache-docker-io-data",
      );
      expect(h.engine().containers[0]!.labels[LABEL_OWNER]).toBe("shop/test");
    }
  });

  it("another stack's container with other credentials is refused, naming the variable only", () => {
    const r = h.run(
      ensure(cacheSpec, { owner: "shop/test", secretEnv: { REGISTRY_PROXY_PASSWORD: "new" } }),
      "create",
      world(cacheSpec, [
        made(cacheSpec, { owner: "shop/dev", secretEnv: { REGISTRY_PROXY_PASSWORD: "old" } }),
      ]),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "was created by shop/dev with other settings than shop/test asks for (the value of REGISTRY_PROXY_PASSWORD)",
    );
    expect(r.stderr).not.toMatch(/\bnew\b|\bold\b/);
  });
});

describe("an image change (case 5)", () => {
  const old = () => made(registrySpec, { image: "registry:2", id: fakeId("0d") });
  const withOld = (images: string[]) =>
    world(registrySpec, [{ ...old(), labels: { ...old().labels, [LABEL_SPEC]: "earlier" } }], {
      images,
    });

  it("the new image cannot be pulled: the old container keeps serving and the step fails in one line", () => {
    const r = h.run(ensure(registrySpec), "create", {
      ...withOld(["registry:2"]),
      FAKE_PULL_EXIT: "1",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: could not pull the image registry:3 (Error response from daemon: pull access denied for registry:3, repository does not exist or may require 'docker login'); the registry container kind-registry is left as it is, on image registry:2. Make registry:3 available (docker pull registry:3) or set the image back to registry:2, then run pulumi up again.\n",
    );
    expect(acts(r.calls)).toEqual([["pull", "--quiet", "registry:3"]]);
    expect(h.engine().containers.map((c) => [c.id, c.image, c.running])).toEqual([
      [fakeId("0d"), "registry:2", true],
    ]);
  });

  it("the new image is pulled before the old container is removed", () => {
    const r = h.run(ensure(registrySpec), "create", withOld(["registry:2"]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 2))).toEqual([
      ["pull", "--quiet"],
      ["rm", "-f"],
      ["run", "--detach"],
    ]);
  });

  it("an image already present is not pulled", () => {
    const r = h.run(ensure(registrySpec), "create", withOld(["registry:2", "registry:3"]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a[0])).toEqual(["rm", "run"]);
  });

  it("a first start whose image cannot be pulled starts nothing, volume included", () => {
    const r = h.run(ensure(registrySpec), "create", {
      ...seed({ networks: [{ name: "kind" }], images: [] }),
      FAKE_PULL_EXIT: "1",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "pulumi-kind-dev: the image registry:3 is not on this machine and could not be pulled (",
    );
    expect(r.stderr).toContain(
      "; nothing was started. Check registryImage, or make registry:3 available",
    );
    expect(acts(r.calls)).toEqual([["pull", "--quiet", "registry:3"]]);
  });
});

describe("credentials (case 6)", () => {
  // Probed like the registry, so that no cache start check waits a second.
  const run = (password: string, username = "bob") =>
    h.run(
      registryContainerScript({
        spec: cacheSpec,
        probeUrl: PROBE,
        secretEnv: { REGISTRY_PROXY_USERNAME: username, REGISTRY_PROXY_PASSWORD: password },
        state: "absent",
        removeOnDelete: false,
      }),
      "create",
      { FAKE_NETWORK_EXISTS: "1" },
    );
  const labels = (r: Result) => {
    const argv = r.calls.find((c) => c.argv[0] === "run")!.argv;
    return argv.flatMap((a, i) => (argv[i - 1] === "--label" ? [a] : []));
  };

  it("no label holds anything derived from a credential: the labels are the same for any (property)", () => {
    const secret = fc
      .string({ unit: "binary", minLength: 1, maxLength: 24 })
      .filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(secret, secret, (password, username) => {
        h.resetEngine();
        const a = run(password, username);
        h.resetEngine();
        const b = run("hunter2", "alice");
        expect(a.status).toBe(0);
        expect(labels(a)).toEqual(labels(b));
        const digest = createHash("sha256").update(password).digest("hex");
        for (const label of labels(a)) {
          expect(label).not.toContain(password.length > 3 ? password : "\0");
          expect(label).not.toContain(digest.slice(0, 8));
        }
      }),
      { numRuns: 10 },
    );
  }, 120_000);

  it("a changed password replaces the container; the message names the variable, not the value", () => {
    const owned = { owner: "shop/dev" } as const;
    const before = made(cacheSpec, {
      ...owned,
      secretEnv: { REGISTRY_PROXY_PASSWORD: "old secret\n" },
    });
    const r = h.run(
      ensure(cacheSpec, { ...owned, secretEnv: { REGISTRY_PROXY_PASSWORD: "new secret\n" } }),
      "create",
      world(cacheSpec, [before]),
    );
    expect(r.status).toBe(0);
    expect(lines(r)[0]).toBe(
      "pulumi-kind-dev: replacing the cache container kind-cache-docker-io: the value of REGISTRY_PROXY_PASSWORD changed; data stays on volume kind-cache-docker-io-data",
    );
    expect(r.stderr).not.toContain("secret");
    expect(h.engine().containers[0]!.env).toContain("REGISTRY_PROXY_PASSWORD=new secret\n");
    expect(h.engine().containers[0]!.labels[LABEL_SPEC]).toBe(before.labels![LABEL_SPEC]);
  });

  it("the same credentials keep the container, whatever the value holds (trailing newlines count)", () => {
    const secretEnv = { REGISTRY_PROXY_PASSWORD: 'p\nw = "x" $(id)\n\n' };
    const r = h.run(
      ensure(cacheSpec, { secretEnv }),
      "create",
      world(cacheSpec, [made(cacheSpec, { secretEnv })]),
    );
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    const trimmed = h.run(
      ensure(cacheSpec, { secretEnv: { REGISTRY_PROXY_PASSWORD: 'p\nw = "x" $(id)' } }),
      "create",
    );
    expect(trimmed.stderr).toContain("the value of REGISTRY_PROXY_PASSWORD changed");
  });
});
