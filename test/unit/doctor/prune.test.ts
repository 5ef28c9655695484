import { describe, expect, it } from "vitest";
import type { ContainerInfo } from "../../../components/doctor/parse";
import {
  collectedLine,
  garbageCollectArgv,
  isIndex,
  planKeepLast,
  registryConfig,
  type TagInfo,
} from "../../../components/doctor/prune";

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
  const registry: ContainerInfo = {
    name: "kind-registry",
    id: "abc",
    image: "registry:3",
    labels: {},
    status: "running",
    running: true,
    restarting: false,
    restartCount: 0,
    exitCode: 0,
    startedAt: "",
    networks: ["kind"],
    ports: [],
    env: {
      PATH: "/usr/bin",
      REGISTRY_STORAGE_DELETE_ENABLED: "true",
      REGISTRY_PROXY_REMOTEURL: "https://never.example",
      OTEL_TRACES_EXPORTER: "none",
    },
    volumes: [{ name: "kind-registry-data", destination: "/var/lib/registry" }],
    command: ["/bin/registry", "serve", "/etc/distribution/config.yml"],
  };

  it("runs the same image on the same volumes, offline, with the registry's own settings", () => {
    expect(garbageCollectArgv(registry, "/etc/distribution/config.yml", true)).toEqual([
      "run",
      "--rm",
      "--network",
      "none",
      "--volumes-from",
      "kind-registry",
      "--env",
      "REGISTRY_STORAGE_DELETE_ENABLED=true",
      "registry:3",
      "garbage-collect",
      "--delete-untagged",
      "/etc/distribution/config.yml",
    ]);
  });

  it("leaves --delete-untagged out when asked to", () => {
    expect(
      garbageCollectArgv(registry, "/etc/docker/registry/config.yml", false).slice(-2),
    ).toEqual(["garbage-collect", "/etc/docker/registry/config.yml"]);
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
