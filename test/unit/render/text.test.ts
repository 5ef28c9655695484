/** components/render/text.ts: quoting for TOML and YAML, hosts in URLs. */
import * as fc from "fast-check";
import { parse as parseToml } from "smol-toml";
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { tomlString, urlHost, yamlString } from "../../../components/render/text";

it.each([
  ["tomlString", "TOML", (s: string) => parseToml(`k = ${tomlString(s)}`)],
  ["yamlString", "YAML", (s: string) => parseYaml(`k: ${yamlString(s)}`) as unknown],
])("%s round-trips any string through a %s parser", (_quote, _format, parse) => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
      expect(parse(s)).toEqual({ k: s });
    }),
    { numRuns: 500 },
  );
});

it.each([
  ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
  ["::1", "[::1]", "[::1]"],
  ["fd00::5", "[fd00::5]", "[fd00::5]"],
  ["0.0.0.0", "0.0.0.0", "127.0.0.1"],
  ["::", "[::]", "[::1]"],
  ["", "", "127.0.0.1"],
])("urlHost(%j) is %j, and %j to connect to", (ip, listen, connect) => {
  expect(urlHost(ip)).toBe(listen);
  expect(urlHost(ip, { connect: true })).toBe(connect);
});
