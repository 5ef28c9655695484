/**
 * A registry or cache container's command: scripts/registry-ensure.sh, what it keeps, starts,
 * replaces or refuses; a container another stack shares; an image change (the new image is there
 * before the old container goes); credentials, which no label carries anything derived from.
 * And scripts/registry-remove.sh (retainOnDestroy: false): container and volume by exact name,
 * only this package's, not while another kind cluster pulls through it; it fails when docker
 * does not answer, so that Pulumi keeps the step for the next destroy.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cacheContainerSpec,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_SPEC,
  registryContainerSpec,
  specHash,
} from "../../../components/render/containerSpecs";
import { DOCKER_HUB_CACHE_INPUT, REGISTRY_INPUT } from "../fixtures";
import {
  acts,
  CACHE_SPEC,
  ensure,
  fakeId,
  lines,
  made,
  NET,
  NETWORK_LS,
  OURS,
  PROBE,
  PS,
  REGISTRY_SPEC,
  type EngineContainer,
  type Result,
  scriptHarness,
  seed,
  world,
} from "./harness";

const h = scriptHarness();
const OLD = fakeId("0d");
const SECRET = { REGISTRY_PROXY_PASSWORD: "s3cr3t value; $(rm -rf /)" };
const registry = () => ensure(REGISTRY_SPEC);
const cache = () => ensure(CACHE_SPEC, { secretEnv: SECRET });
const words = (line: string) => line.split(" ");
const dockerRun = (r: Result) => r.calls.find((c) => c.argv[0] === "run")!;

describe("a first start", () => {
  // A registry stand-in in its own process: run() blocks this one while a script runs.
  let server: ChildProcess;
  let probeUrl: string;

  beforeAll(async () => {
    server = spawn(process.execPath, [
      "-e",
      `const s = require("node:http").createServer((q, r) => { r.statusCode = q.url === "/v2/" ? 200 : 404; r.end("{}"); });
       s.listen(0, "127.0.0.1", () => console.log(s.address().port));`,
    ]);
    const port = await new Promise<string>((resolve) =>
      server.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    probeUrl = `http://127.0.0.1:${port}/v2/`;
  });

  afterAll(() => {
    server.kill();
  });

  it("starts the registry on its volume with labels, publishes loopback, waits for /v2/", () => {
    const r = h.run(ensure(REGISTRY_SPEC, { probeUrl, owner: "proj/dev" }), "create", NET);
    expect(r.status).toBe(0);
    const hash = specHash(REGISTRY_SPEC);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      PS,
      ["image", "inspect", "registry:3"],
      ["volume", "ls", "--quiet"],
      ["volume", "create", "--label", "dev.pulumi-kind-dev.managed=true", "kind-registry-data"],
      [
        ...words("run --detach --name kind-registry --restart always --network kind --volume"),
        ...words("kind-registry-data:/var/lib/registry --label dev.pulumi-kind-dev.managed=true"),
        ...words(
          `--label dev.pulumi-kind-dev.role=registry --label dev.pulumi-kind-dev.spec=${hash}`,
        ),
        ...words(
          "--label dev.pulumi-kind-dev.repair=ok --label dev.pulumi-kind-dev.owner=proj/dev",
        ),
        "--label",
        "dev.pulumi-kind-dev.settings=image=registry:3 network=kind volume=kind-registry-data publish=127.0.0.1:5001:5000 env.REGISTRY_STORAGE_DELETE_ENABLED=true",
        ...words("--publish 127.0.0.1:5001:5000 --env REGISTRY_STORAGE_DELETE_ENABLED registry:3"),
      ],
      PS,
    ]);
    expect(r.calls.at(-2)!.envValues).toEqual({ REGISTRY_STORAGE_DELETE_ENABLED: "true" });
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the registry container kind-registry; data on volume kind-registry-data\n" +
        `pulumi-kind-dev: registry kind-registry answers at ${probeUrl}\n`,
    );
    expect(fs.readdirSync(h.statePath("locks"))).toEqual([]);
  });

  it("fails with the registry's name when /v2/ never answers", () => {
    const c = ensure(REGISTRY_SPEC, { probeUrl });
    const environment = { ...c.environment, PROBE_URL: `${probeUrl}x`, ATTEMPTS: "2" };
    const r = h.run({ ...c, environment }, "create", NET);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `the registry kind-registry did not answer GET ${probeUrl}x after 2 tries; see 'docker logs kind-registry'`,
    );
  });

  it.each([
    ["0.0.0.0", "0.0.0.0:5001"],
    ["192.168.1.20", "192.168.1.20:5001"],
    ["::", "[::]:5001"],
    ["127.0.0.1", undefined],
    ["::1", undefined],
  ])("published on %s, warns what that exposes on %s (on loopback, nothing)", (hostIp, bound) => {
    const r = h.run(ensure(registryContainerSpec({ ...REGISTRY_INPUT, hostIp })), "create", NET);
    expect(r.status).toBe(0);
    expect(lines(r).filter((l) => l.includes("warning"))).toEqual(
      bound === undefined
        ? []
        : [
            `pulumi-kind-dev: warning: the registry kind-registry is published on ${bound}, not only on this machine: anyone who reaches it can push, pull and delete images (no authentication, deletes enabled). Set bindAddress to 127.0.0.1 (the default) unless other machines must reach it, and then let a firewall admit only those.`,
          ],
    );
  });

  it("passes cache credentials only through the environment", () => {
    const r = h.run(cache(), "create", NET);
    expect(r.status).toBe(0);
    expect(dockerRun(r).argv.join(" ")).not.toContain("s3cr3t");
    expect(dockerRun(r).envValues).toEqual({
      REGISTRY_PROXY_PASSWORD: SECRET.REGISTRY_PROXY_PASSWORD,
      REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
    });
    expect(dockerRun(r).argv).toContain("dev.pulumi-kind-dev.upstream=docker.io");
    expect(dockerRun(r).argv).toContain(
      "dev.pulumi-kind-dev.settings=image=registry:3 network=kind volume=kind-cache-docker-io-data publish=none upstream=docker.io env.REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io env.REGISTRY_STORAGE_DELETE_ENABLED=true secret.REGISTRY_PROXY_PASSWORD=<secret>",
    );
    expect(dockerRun(r).argv).not.toContain("--publish");
    expect(r.stderr).not.toContain("s3cr3t");
    expect(r.stderr).not.toContain("warning");
  });

  it.each([
    ["at once", "1", 1],
    ["after two polls", "3", 3],
    ["never: it stops after 30 polls", "never", 30],
  ])(
    "waits for a new cache to log that it listens (%s), without a warning",
    (_when, after, polls) => {
      const r = h.run(cache(), "create", { ...NET, FAKE_LISTENING_AFTER: after });
      expect(r.status).toBe(0);
      const logs = r.calls.filter((c) => c.argv[0] === "logs").map((c) => c.argv.slice(0, 3));
      expect(logs).toEqual(
        Array.from({ length: polls }, () => ["logs", "--since", "2026-01-02T03:04:05.123456789Z"]),
      );
      expect(r.stderr).not.toContain("warning");
    },
  );

  it("removes what a failed docker run left behind, by its ID, and the volume it made, and fails", () => {
    const r = h.run(registry(), "create", { ...NET, FAKE_RUN_EXIT: "125" });
    expect(r.status).toBe(1);
    const removed = r.calls.at(-2)!.argv;
    expect(removed.slice(0, 2)).toEqual(["rm", "-f"]);
    expect(removed[2]).toMatch(/^[0-9a-f]{64}$/);
    expect(r.calls.at(-1)!.argv).toEqual(["volume", "rm", "kind-registry-data"]);
    expect(h.engine().containers).toEqual([]);
    expect(h.engine().volumes).toEqual([]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: could not start the registry container kind-registry: docker: Error response from daemon: driver failed programming external connectivity.\n",
    );
  });

  // Another program on the port: test/integration/failures.test.ts.
  it("names the port and the setting when another container holds the registry's port", () => {
    const error =
      "docker: Error response from daemon: driver failed programming external connectivity on endpoint kind-registry (0123): Bind for 127.0.0.1:5001 failed: port is already allocated.";
    const r = h.run(registry(), "create", { ...NET, FAKE_RUN_EXIT: "125", FAKE_RUN_ERROR: error });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: port 5001 on 127.0.0.1 is taken by another program, so the registry kind-registry cannot publish it. Stop that program or set registryPort to a free port.\n",
    );
    expect(h.engine().containers).toEqual([]);
  });

  it("reuses a volume of its own and refuses anyone else's", () => {
    const own = h.run(registry(), "create", world(REGISTRY_SPEC));
    expect(own.status).toBe(0);
    expect(acts(own.calls).map((a) => a[0])).toEqual(["run"]);
    h.resetEngine();
    const volumes = [{ name: "kind-registry-data" }];
    const other = h.run(registry(), "create", seed({ networks: [{ name: "kind" }], volumes }));
    expect(other.status).toBe(1);
    expect(other.stderr).toBe(
      "pulumi-kind-dev: a volume named kind-registry-data already exists and was not created by pulumi-kind-dev, so it is not used and its data is left alone. Remove it (docker volume rm kind-registry-data) or choose another container name.\n",
    );
    expect(acts(other.calls)).toEqual([]);
  });

  // A first start whose image cannot be pulled: test/integration/failures.test.ts.
  it("hands every value to docker unchanged whatever it contains (property)", () => {
    const value = fc
      .string({ unit: "binary", minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes("\0"));
    // Docker allows no newline in a name: the scripts compare names line by line.
    const name = value.filter((s) => !s.includes("\n"));
    fc.assert(
      fc.property(name, value, name, value, value, (name, image, network, volume, password) => {
        h.resetEngine();
        const spec = { ...REGISTRY_SPEC, name, image, network, volume };
        const r = h.run(
          ensure(spec, { secretEnv: { REGISTRY_PROXY_PASSWORD: password } }),
          "create",
          seed({ networks: [{ name: network }] }),
        );
        expect(r.status).toBe(0);
        const argv = dockerRun(r).argv;
        const arg = (flag: string) => argv[argv.indexOf(flag) + 1];
        expect(arg("--name")).toBe(name);
        expect(arg("--network")).toBe(network);
        expect(arg("--volume")).toBe(`${volume}:/var/lib/registry`);
        expect(argv.at(-1)).toBe(image);
        expect(dockerRun(r).envValues!["REGISTRY_PROXY_PASSWORD"]).toBe(password);
        expect(argv).toHaveLength(27);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});

describe("a container of that name", () => {
  it("of this package, a cache restarted: checked, naming the URL it could not reach", () => {
    const stopped = made(CACHE_SPEC, { running: false, secretEnv: SECRET });
    const r = h.run(cache(), "create", {
      ...world(CACHE_SPEC, [stopped]),
      FAKE_RESTARTS_AFTER_START: "2",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([["start", OLD]]);
    expect(r.calls.at(-1)!.argv).toEqual([
      ...words("container inspect --format"),
      "{{.State.Running}} {{.RestartCount}} {{.State.StartedAt}}",
      OLD,
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: started the existing cache container kind-cache-docker-io; data on volume kind-cache-docker-io-data\n" +
        "pulumi-kind-dev: warning: cache kind-cache-docker-io is restarting: the registry exits at start while its upstream https://registry-1.docker.io does not answer. Until it does, nodes pull from docker.io directly; see 'docker logs kind-cache-docker-io'\n",
    );
  });

  it("of this package, whose first start failed: made again", () => {
    const stopped = made(REGISTRY_SPEC, { running: false });
    const r = h.run(registry(), "create", {
      ...world(REGISTRY_SPEC, [stopped]),
      FAKE_START_EXIT: "1",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 3))).toEqual([
      ["start", OLD],
      ["rm", "-f", OLD],
      ["run", "--detach", "--name"],
    ]);
    expect(h.engine().containers.map((c) => c.running)).toEqual([true]);
  });

  it("none, but one whose ID starts with the name: a container of its own is made", () => {
    const spec = { ...CACHE_SPEC, name: "cafe", volume: "cafe-data" };
    const decoy = made(CACHE_SPEC, { id: fakeId("cafe3") });
    const r = h.run(ensure(spec), "create", world(spec, [decoy]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a.slice(0, 4))).toEqual([
      ["run", "--detach", "--name", "cafe"],
    ]);
    const names = h.engine().containers.map((c) => c.name);
    expect(names.sort()).toEqual(["cafe", CACHE_SPEC.name]);
  });
});

describe("a container two stacks share", () => {
  const ttl = cacheContainerSpec({ ...DOCKER_HUB_CACHE_INPUT, ttl: "72h", hostPort: 5002 });
  /** Stack shop/test's run, with these credentials, finding `found`. */
  const asTest = (found: EngineContainer, secretEnv?: Record<string, string>) =>
    h.run(
      ensure(CACHE_SPEC, { owner: "shop/test", ...(secretEnv ? { secretEnv } : {}) }),
      "create",
      world(CACHE_SPEC, [found]),
    );

  it("another stack's container with other settings is refused, naming both stacks and what differs", () => {
    const r = asTest(made(ttl, { owner: "shop/dev" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: the cache container kind-cache-docker-io was created by shop/dev with other settings than shop/test asks for (publish 127.0.0.1:5002:5000 -> none, env.REGISTRY_PROXY_TTL 72h -> (none)), so it is left as it is: replacing it would undo shop/dev's settings, and shop/dev would replace it back. Give both the same settings, or one of them another container name; if shop/dev no longer uses it, remove it (docker rm -f kind-cache-docker-io; the volume kind-cache-docker-io-data and its data stay) and run pulumi up again.\n",
    );
    expect(acts(r.calls)).toEqual([]);
  });

  it("no flip-flop: the first stack keeps its container, the second is refused at every run", () => {
    const dev = ensure(ttl, { owner: "shop/dev" });
    const test = ensure(CACHE_SPEC, { owner: "shop/test" });
    expect(h.run(dev, "create", NET).status).toBe(0);
    const id = h.engine().containers[0]!.id;
    for (const [script, status] of [
      [test, 1],
      [dev, 0],
      [test, 1],
    ] as const) {
      expect(h.run(script, "create", NET).status).toBe(status);
      expect(h.engine().containers.map((c) => c.id)).toEqual([id]);
    }
    expect(h.calls().filter((c) => c.argv[0] === "run" || c.argv[0] === "rm")).toHaveLength(1);
  });

  it.each([["shop/test"], [undefined]])(
    "its own container (owner %s) with other settings is replaced on the same volume",
    (owner) => {
      const r = asTest(made(ttl, owner === undefined ? {} : { owner }));
      expect(r.status).toBe(0);
      expect(acts(r.calls).map((a) => a.slice(0, 3))).toEqual([
        ["rm", "-f", OLD],
        ["run", "--detach", "--name"],
      ]);
      expect(lines(r)[0]).toBe(
        "pulumi-kind-dev: replacing the cache container kind-cache-docker-io, whose configuration changed; data stays on volume kind-cache-docker-io-data",
      );
      expect(h.engine().containers[0]!.labels[LABEL_OWNER]).toBe("shop/test");
      expect(h.engine().volumes.map((v) => v.name)).toEqual(["kind-cache-docker-io-data"]);
    },
  );

  it("another stack's container with other credentials is refused, naming the variable only", () => {
    const old = { REGISTRY_PROXY_PASSWORD: "old" };
    const r = asTest(made(CACHE_SPEC, { owner: "shop/dev", secretEnv: old }), {
      REGISTRY_PROXY_PASSWORD: "new",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "was created by shop/dev with other settings than shop/test asks for (the value of REGISTRY_PROXY_PASSWORD)",
    );
    expect(r.stderr).not.toMatch(/\bnew\b|\bold\b/);
  });
});

describe("an image change", () => {
  /** Its spec on registry:2 before: what an earlier version of this package made. */
  const onRegistry2 = (spec: typeof REGISTRY_SPEC, images: string[]) =>
    world(spec, [made(spec, { image: "registry:2", labels: { [LABEL_SPEC]: "earlier" } })], {
      images,
    });

  it.each([
    ["registry", REGISTRY_SPEC, "kind-registry", "kind-registry-data"],
    ["cache", CACHE_SPEC, "kind-cache-docker-io", "kind-cache-docker-io-data"],
  ])(
    "names the images when the %s is replaced, pulling the new one first",
    (role, spec, name, volume) => {
      const r = h.run(ensure(spec), "create", onRegistry2(spec, ["registry:2"]));
      expect(r.status).toBe(0);
      expect(acts(r.calls).map((a) => a.slice(0, 2))).toEqual([
        ["pull", "--quiet"],
        ["rm", "-f"],
        ["run", "--detach"],
      ]);
      expect(dockerRun(r).argv.at(-1)).toBe("registry:3");
      expect(lines(r).slice(0, 2)).toEqual([
        `pulumi-kind-dev: replacing the ${role} container ${name}: image registry:2 -> registry:3; data stays on volume ${volume}. To keep registry:2, set registryImage: registry:2`,
        `pulumi-kind-dev: started the ${role} container ${name}; data on volume ${volume}`,
      ]);
    },
  );

  it("an image already present is not pulled", () => {
    const r = h.run(registry(), "create", onRegistry2(REGISTRY_SPEC, ["registry:2", "registry:3"]));
    expect(r.status).toBe(0);
    expect(acts(r.calls).map((a) => a[0])).toEqual(["rm", "run"]);
  });

  it("names any found and wanted image verbatim and still replaces the container (property)", () => {
    const value = fc
      .string({ unit: "binary", minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes("\0") && !s.endsWith("\n"));
    fc.assert(
      fc.property(value, value, (found, wanted) => {
        fc.pre(found !== wanted);
        h.resetEngine();
        const spec = { ...REGISTRY_SPEC, image: wanted };
        const old = made(REGISTRY_SPEC, { image: found, labels: { [LABEL_SPEC]: "old" } });
        const r = h.run(ensure(spec), "create", world(spec, [old]));
        expect(r.status).toBe(0);
        expect(r.stderr).toContain(
          `replacing the registry container kind-registry: image ${found} -> ${wanted}; data stays on volume kind-registry-data. To keep ${found}, set registryImage: ${found}\n`,
        );
        expect(dockerRun(r).argv.at(-1)).toBe(wanted);
        expect(dockerRun(r).argv).toHaveLength(25);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe("credentials", () => {
  // Probed like the registry, so that no cache start check waits a second.
  const run = (password: string, username = "bob") => {
    const secretEnv = { REGISTRY_PROXY_USERNAME: username, REGISTRY_PROXY_PASSWORD: password };
    return h.run(ensure(CACHE_SPEC, { probeUrl: PROBE, secretEnv }), "create", NET);
  };
  const labels = (r: Result) => {
    const argv = dockerRun(r).argv;
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

  it("the same credentials keep the container, whatever the value holds (trailing newlines count)", () => {
    const secretEnv = { REGISTRY_PROXY_PASSWORD: 'p\nw = "x" $(id)\n\n' };
    const r = h.run(
      ensure(CACHE_SPEC, { secretEnv }),
      "create",
      world(CACHE_SPEC, [made(CACHE_SPEC, { secretEnv })]),
    );
    expect(r.status).toBe(0);
    expect(acts(r.calls)).toEqual([]);
    const trimmed = h.run(
      ensure(CACHE_SPEC, { secretEnv: { REGISTRY_PROXY_PASSWORD: 'p\nw = "x" $(id)' } }),
      "create",
    );
    expect(trimmed.stderr).toContain("the value of REGISTRY_PROXY_PASSWORD changed");
  });
});

describe("registry-remove", () => {
  const cache = () => ensure(CACHE_SPEC, { removeOnDelete: true });

  it("is there only when not retained; removes container and volume by ID and exact name", () => {
    expect(ensure(CACHE_SPEC).delete).toBeUndefined();
    const net = fakeId("5e");
    const engine = seed({
      networks: [{ id: net, name: "kind", labels: OURS }],
      volumes: [{ name: "kind-cache-docker-io-data", labels: OURS }],
      containers: [made(CACHE_SPEC)],
    });
    const r = h.run(cache(), "delete", engine);
    expect(r.status).toBe(0);
    // First: which kind nodes on its network (by the network's ID) could still pull through it.
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      NETWORK_LS,
      [
        ...["ps", "-a", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster"],
        ...["--filter", `network=${net}`, "--format", "{{.ID}}"],
      ],
      PS,
      [
        ...words("container inspect --format"),
        '{{index .Config.Labels "dev.pulumi-kind-dev.managed"}}',
        OLD,
      ],
      ["rm", "-f", OLD],
      ["volume", "ls", "--quiet"],
      [
        ...["volume", "inspect", "--format", '{{index .Labels "dev.pulumi-kind-dev.managed"}}'],
        "kind-cache-docker-io-data",
      ],
      ["volume", "rm", "kind-cache-docker-io-data"],
    ]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: removed kind-cache-docker-io and its volume kind-cache-docker-io-data\n",
    );
  });

  it("keeps a cache that another kind cluster pulls through, and counts a stopped node", () => {
    const node = (cluster: string, running: boolean, files: string) => ({
      name: `${cluster}-control-plane`,
      labels: { "io.x-k8s.kind.cluster": cluster },
      networks: ["kind"],
      running,
      files,
    });
    const r = h.run(cache(), "delete", {
      ...seed({
        networks: [{ name: "kind", labels: OURS }],
        containers: [
          made(CACHE_SPEC),
          node("other", true, '[host."http://kind-cache-docker-io:5000"]\n'),
          node("stopped", false, ""),
          node("unrelated", true, '[host."http://kind-cache-ghcr-io:5000"]\n'),
          node("own", true, '[host."http://kind-cache-docker-io:5000"]\n'),
        ],
      }),
      OWN_CLUSTER: "own",
    });
    expect(r.status).toBe(0);
    expect(acts(r.calls).filter((a) => a[0] !== "exec")).toEqual([]);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: kept kind-cache-docker-io and its volume kind-cache-docker-io-data although retainOnDestroy is false: kind cluster(s) other stopped still pull through it. Destroy them first, or remove it by hand (docker rm -f kind-cache-docker-io && docker volume rm kind-cache-docker-io-data) once nothing uses it.\n",
    );
  });

  it("removes nothing but the labelled container and volume of that exact name (property)", () => {
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
        const spec = { ...CACHE_SPEC, name: target, volume: `${target}-data` };
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
            volumes: [{ name: spec.volume, labels: volumeManaged ? OURS : {} }],
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

  // The daemon down from the start: test/integration/ownership.test.ts, case 2.
  it.each([
    ["docker ps fails (the daemon stopped after docker info)", "ps"],
    ["docker network ls fails", "network ls"],
    ["the container lookup fails", "container inspect"],
  ])("fails in one line when %s, removing nothing", (_what, failed) => {
    const both = world(CACHE_SPEC, [made(CACHE_SPEC)]);
    const r = h.run(cache(), "delete", { ...both, FAKE_DOCKER_FAIL: failed });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `pulumi-kind-dev: the Docker daemon does not answer ('docker ${failed}' failed); start Docker and retry\n`,
    );
    expect(acts(r.calls)).toEqual([]);
    h.sh("docker ps -a --format x >/dev/null", both);
    expect(h.engine().containers.map((c) => c.name)).toEqual([CACHE_SPEC.name]);
    expect(h.engine().volumes.map((v) => v.name)).toEqual([CACHE_SPEC.volume]);
  });

  it("fails when docker stops between the container and the volume; the next run finishes", () => {
    const both = world(CACHE_SPEC, [made(CACHE_SPEC)]);
    const r = h.run(cache(), "delete", { ...both, FAKE_DOCKER_FAIL: "volume ls" });
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
});
