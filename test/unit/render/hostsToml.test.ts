/** components/render/hostsToml.ts: each node's hosts.toml files and their text. */
import * as fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../components/config";
import * as hostsToml from "../../../components/render/hostsToml";
import { DEFAULT_HOSTS_FILES, DOCKER_IO_TOML, REGISTRY_TOML } from "../fixtures";

describe("hosts.toml", () => {
  it("maps the push registry host to the registry container", () => {
    expect(hostsToml.renderRegistryHostsToml("http://kind-registry:5000")).toBe(REGISTRY_TOML);
  });

  it("puts the cache first for pull and resolve and keeps the upstream as server", () => {
    const toml = hostsToml.renderMirrorHostsToml(
      "https://registry-1.docker.io",
      "http://kind-cache-docker-io:5000",
    );
    expect(toml).toBe(DOCKER_IO_TOML);
    expect(parseToml(toml)).toEqual({
      server: "https://registry-1.docker.io",
      host: { "http://kind-cache-docker-io:5000": { capabilities: ["pull", "resolve"] } },
    });
  });

  it("keeps its structure whatever the endpoint strings contain (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (server, host) => {
        expect(parseToml(hostsToml.renderMirrorHostsToml(server, host))).toEqual({
          server,
          host: { [host]: { capabilities: ["pull", "resolve"] } },
        });
      }),
      { numRuns: 300 },
    );
  });

  it("plans both of the registry's hosts, then one file per cached upstream", () => {
    expect(hostsToml.planHostsFiles(resolveConfig({}))).toEqual(DEFAULT_HOSTS_FILES);
  });
});
