import { describe, expect, it } from "vitest";
import { formatPrune } from "../../../components/doctor/cli";
import {
  collectedLine,
  collectorMode,
  garbageCollectArgv,
  isIndex,
  planKeepLast,
  type PruneOptions,
  registryConfig,
  runPrune,
  type TagInfo,
} from "../../../components/doctor/prune";
import type { Exec } from "../../../components/exec";
import { HEALTHY_INSPECT, INSPECT, ok } from "./recorded";

const tag = (repository: string, t: string, digest: string, created?: string): TagInfo => ({
  repository,
  tag: t,
  digest,
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  ...(created === undefined ? {} : { created }),
});

describe("planKeepLast", () => {
  it("keeps the N newest tags of each repository by creation time and deletes the rest", () => {
    const tags = [
      tag("app", "v1", "sha256:1", "2026-11-20T10:00:00Z"),
      tag("app", "v3", "sha256:3", "2026-11-22T10:00:00Z"),
      tag("app", "v2", "sha256:2", "2026-11-21T10:00:00Z"),
      tag("api", "a", "sha256:a", "2026-11-01T00:00:00Z"),
      tag("api", "b", "sha256:b", "2026-11-02T00:00:00Z"),
    ];
    expect(planKeepLast(tags, 1)).toEqual({
      keep: [tags[4], tags[1]],
      delete: [
        { repository: "api", digest: "sha256:a", tags: ["a"] },
        { repository: "app", digest: "sha256:2", tags: ["v2"] },
        { repository: "app", digest: "sha256:1", tags: ["v1"] },
      ],
    });
  });

  it("never deletes an image a kept tag points at, and deletes an image once for all its tags", () => {
    const tags = [
      tag("app", "latest", "sha256:3", "2026-11-22T10:00:00Z"),
      tag("app", "v3", "sha256:3", "2026-11-22T10:00:00Z"),
      tag("app", "v2", "sha256:2", "2026-11-21T10:00:00Z"),
      tag("app", "old", "sha256:2", "2026-11-21T10:00:00Z"),
    ];
    expect(planKeepLast(tags, 1)).toEqual({
      keep: [tags[0], tags[1]],
      delete: [{ repository: "app", digest: "sha256:2", tags: ["old", "v2"] }],
    });
  });

  it("counts images without a creation time as the oldest, ties by tag name", () => {
    const tags = [
      tag("app", "b", "sha256:b"),
      tag("app", "a", "sha256:a"),
      tag("app", "new", "sha256:n", "2026-01-01T00:00:00Z"),
    ];
    expect(planKeepLast(tags, 2).delete).toEqual([
      { repository: "app", digest: "sha256:b", tags: ["b"] },
    ]);
  });

  it("keeps everything when N is at least the number of tags, and nothing with 0", () => {
    const tags = [tag("app", "v1", "sha256:1", "2026-01-01T00:00:00Z")];
    expect(planKeepLast(tags, 5)).toEqual({ keep: tags, delete: [] });
    expect(planKeepLast(tags, 0)).toEqual({
      keep: [],
      delete: [{ repository: "app", digest: "sha256:1", tags: ["v1"] }],
    });
  });

  it.each([-1, 1.5, Number.NaN])("refuses --keep-last %s", (n) => {
    expect(() => planKeepLast([], n)).toThrow(
      `kind-dev prune: invalid --keep-last ${String(n)}: must be a whole number of 0 or more`,
    );
  });
});

describe("registryConfig", () => {
  it.each([
    [
      "registry:2 built from Debian's package",
      ["/bin/registry", "serve", "/etc/docker/registry/config.yml"],
      "registry:2",
      { path: "/etc/docker/registry/config.yml", distribution: 2 },
    ],
    [
      "official registry:2 (entrypoint script)",
      ["/entrypoint.sh", "/etc/docker/registry/config.yml"],
      "registry:2",
      { path: "/etc/docker/registry/config.yml", distribution: 2 },
    ],
    [
      "registry:3",
      ["/bin/registry", "serve", "/etc/distribution/config.yml"],
      "registry:3",
      { path: "/etc/distribution/config.yml", distribution: 3 },
    ],
    [
      "no config on the command line, registry:2.8.3",
      ["/bin/registry"],
      "registry:2.8.3",
      { path: "/etc/docker/registry/config.yml", distribution: 2 },
    ],
    [
      "no config on the command line, another image",
      ["/bin/registry"],
      "ghcr.io/me/registry:latest",
      { path: "/etc/distribution/config.yml", distribution: 3 },
    ],
  ])("%s", (_name, command, image, expected) => {
    expect(registryConfig(command, image)).toEqual(expected);
  });
});

describe("garbageCollectArgv", () => {
  it("runs the same image on the same volumes, offline, with the registry's own settings", () => {
    const env = {
      PATH: "/usr/bin",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
      REGISTRY_PROXY_REMOTEURL: "https://never.example",
      OTEL_TRACES_EXPORTER: "none",
    };
    const registry = { ...INSPECT.registry, name: "kind-registry", image: "registry:3", env };
    const expected =
      "run --rm --network none --volumes-from kind-registry --env REGISTRY_STORAGE_DELETE_ENABLED=true registry:3 garbage-collect --delete-untagged /etc/distribution/config.yml";
    expect(garbageCollectArgv(registry, "/etc/distribution/config.yml", true)).toEqual(
      expected.split(" "),
    );
  });
});

describe("collectedLine and isIndex", () => {
  it("finds the collector's count line in its output", () => {
    expect(
      collectedLine(
        "app: marking manifest sha256:1\n\n5 blobs marked, 11 blobs and 0 manifests eligible for deletion\nblob eligible for deletion: sha256:2\n",
      ),
    ).toBe("5 blobs marked, 11 blobs and 0 manifests eligible for deletion");
    expect(collectedLine("nothing")).toBeUndefined();
  });

  it.each([
    ["application/vnd.oci.image.index.v1+json", true],
    ["application/vnd.docker.distribution.manifest.list.v2+json", true],
    ["application/vnd.oci.image.manifest.v1+json", false],
    ["application/vnd.docker.distribution.manifest.v2+json", false],
  ])("isIndex(%s) is %s", (mediaType, expected) => {
    expect(isIndex(mediaType)).toBe(expected);
  });
});

describe("collectorMode", () => {
  const index = {
    ...tag("app", "multi", "sha256:i"),
    mediaType: "application/vnd.oci.image.index.v1+json",
  };
  it.each([
    ["--keep-last alone never deletes untagged manifests", false, 3, [], { deleteUntagged: false }],
    [
      "--keep-last alone, distribution 2, a kept index",
      false,
      2,
      [index],
      { deleteUntagged: false },
    ],
    ["--untagged deletes them", true, 3, [index], { deleteUntagged: true }],
    ["--untagged on distribution 2 without a kept index", true, 2, [], { deleteUntagged: true }],
    [
      "--untagged on distribution 2 with a kept index: kept, and why",
      true,
      2,
      [index],
      {
        deleteUntagged: false,
        note: "untagged manifests kept: app:multi is a multi-platform index, and distribution 2.8's collector would delete its platform manifests (use registry:3)",
      },
    ],
  ] as const)("%s", (_name, untagged, distribution, keep, expected) => {
    expect(collectorMode(untagged, distribution, keep)).toEqual(expected);
  });
});

describe("runPrune: each flag does what its usage says", () => {
  const REGISTRY = "kdev-doc-registry";
  /** A registry with three tags of one repository, v1 the oldest; every command recorded. */
  async function prune(options: Omit<PruneOptions, "exec" | "api">) {
    const calls: string[][] = [];
    const deleted: string[] = [];
    const exec: Exec = async (file, args) => {
      calls.push([file, ...args]);
      const df = [{ Name: `${REGISTRY}-data`, Size: calls.length < 4 ? "30MB" : "20MB" }];
      return ok(
        args[0] === "container" ? HEALTHY_INSPECT : args[0] === "system" ? JSON.stringify(df) : "",
      );
    };
    const api = () => ({
      ping: async () => 200,
      repositories: async () => ["app"],
      tags: async () => ["v1", "v2", "v3"],
      getManifest: async (_repo: string, ref: string) => ({
        digest: `sha256:${ref}`,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        body: { config: { digest: `sha256:config-${ref}` } },
      }),
      getBlobJson: async (_repo: string, digest: string) => ({
        created: `2026-11-0${digest.slice(-1)}T00:00:00Z`,
      }),
      deleteManifest: async (repo: string, digest: string) => {
        deleted.push(`${repo}@${digest}`);
      },
    });
    const report = await runPrune({ registry: REGISTRY, ...options, exec, api });
    return { report, deleted, calls: calls.map((c) => c.join(" ")) };
  }
  const collector = (...flags: string[]) =>
    `docker run --rm --network none --volumes-from ${REGISTRY} --env REGISTRY_STORAGE_DELETE_ENABLED=true registry:3 garbage-collect ${[...flags, "/etc/distribution/config.yml"].join(" ")}`;
  const DF = "docker system df -v --format {{json .Volumes}}";

  it("--registry takes an exact name: a container whose ID starts with it is not that registry", async () => {
    await expect(prune({ registry: "01bf", untagged: true })).rejects.toThrow(
      "kind-dev prune: no container named 01bf",
    );
  });

  it.each([
    [{ keepLast: 1 }, ["v3"], ["app@sha256:v2", "app@sha256:v1"], false],
    [{ keepLast: 1, untagged: true }, ["v3"], ["app@sha256:v2", "app@sha256:v1"], true],
    [{ untagged: true }, ["v1", "v2", "v3"], [], true],
  ])(
    "%j deletes these manifests, and untagged ones only with --untagged",
    async (flags, kept, manifests, untagged) => {
      const { report, deleted, calls } = await prune(flags);
      expect(report.plan.keep.map((t) => t.tag)).toEqual(kept);
      expect(deleted).toEqual(manifests);
      expect(calls).toEqual([
        `docker container inspect ${REGISTRY}`,
        DF,
        `docker stop --time 10 ${REGISTRY}`,
        untagged ? collector("--delete-untagged") : collector(),
        `docker start ${REGISTRY}`,
        DF,
      ]);
      expect(report).toMatchObject({ deleteUntagged: untagged, bytesReclaimed: 10_000_000 });
    },
  );

  it.each([
    [
      { keepLast: 1 },
      "collect: the blobs no manifest references; untagged manifests stay (garbage-collect, no --delete-untagged)",
    ],
    [
      { keepLast: 1, untagged: true },
      "collect: untagged manifests, then the blobs no manifest references (garbage-collect --delete-untagged)",
    ],
  ])(
    "--dry-run %j: says what would go and how; deletes, stops and runs nothing",
    async (flags, collect) => {
      const { report, deleted, calls } = await prune({ ...flags, dryRun: true });
      expect(deleted).toEqual([]);
      expect(calls).toEqual([`docker container inspect ${REGISTRY}`]);
      expect(formatPrune({ ...report, seconds: 0.25 })).toBe(
        [
          `${REGISTRY} (registry:3): would delete 2 images, keeping 1 tag`,
          "  would delete app@sha256:v2 (v2)",
          "  would delete app@sha256:v1 (v1)",
          `would ${collect}`,
          "0.3 s",
          "",
        ].join("\n"),
      );
    },
  );
});
