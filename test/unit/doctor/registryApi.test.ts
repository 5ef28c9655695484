/**
 * RegistryApi's listings against a local HTTP server answering as distribution does: pages
 * chained by `Link: <...>; rel="next"`, and 404 for a repository without tags.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RegistryApi } from "../../../components/doctor/registryApi";

const PAGES: Readonly<Record<string, { body: object; next?: string }>> = {
  "/v2/_catalog?n=1000": {
    body: { repositories: ["app", "empty"] },
    next: "/v2/_catalog?last=empty",
  },
  "/v2/_catalog?last=empty": { body: { repositories: ["tools/crane"] } },
  "/v2/app/tags/list": { body: { name: "app", tags: ["1", "2"] } },
};

let server: http.Server;
let api: RegistryApi;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const page = PAGES[req.url ?? ""];
    res.writeHead(page === undefined ? 404 : 200, {
      "content-type": "application/json",
      ...(page?.next === undefined ? {} : { link: `<${page.next}>; rel="next"` }),
    });
    res.end(JSON.stringify(page?.body ?? { errors: [{ code: "NAME_UNKNOWN" }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = new RegistryApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

it("follows every next page of the catalog", async () => {
  expect(await api.repositories()).toEqual(["app", "empty", "tools/crane"]);
});

it("lists a repository's tags, and none for a repository the registry answers 404 for", async () => {
  expect(await api.tags("app")).toEqual(["1", "2"]);
  expect(await api.tags("empty")).toEqual([]);
});
