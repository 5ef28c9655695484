/**
 * gather() on the healthy recording with one container changed: the facts it reads only when
 * docker says so. (The replay fails on any command the recording does not have, so the healthy
 * sessions already prove these are not read otherwise.)
 */
import { expect, it } from "vitest";
import { gather } from "../../../components/doctor/facts";
import { CACHE, CLUSTER, ok, recorded, REGISTRY, replay } from "./recorded";

it("reads the log of a container docker says is restarting, and only its", async () => {
  const r = replay();
  const inspect = ["docker", "container", "inspect", CACHE, REGISTRY];
  const logs = ["docker", "logs", "--tail", "60", CACHE];
  const calls: string[][] = [];
  const facts = await gather(
    { cluster: CLUSTER, kubeconfig: "KUBECONFIG" },
    async (file, args, options) => {
      const argv = [file, ...args];
      calls.push(argv);
      if (argv.join(" ") === inspect.join(" ")) {
        const containers = JSON.parse((await r.exec(file, args, options)).stdout) as {
          Name: string;
          State: Record<string, unknown>;
        }[];
        for (const c of containers.filter((c) => c.Name === `/${CACHE}`)) {
          c.State = { ...c.State, Status: "restarting", Running: true, Restarting: true };
        }
        return ok(JSON.stringify(containers));
      }
      return argv.join(" ") === logs.join(" ")
        ? ok(recorded("cache-restarting.log.txt"))
        : r.exec(file, args, options);
    },
    r.registryClient,
  );
  expect(calls.filter((argv) => argv[1] === "logs")).toEqual([logs]);
  expect(facts.found?.logs).toEqual({
    [CACHE]:
      'panic: Get "http://kdev-doc-nowhere:5000/v2/": dial tcp: lookup kdev-doc-nowhere on 127.0.0.11:53: no such host',
  });
});
