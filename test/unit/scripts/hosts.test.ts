/**
 * A node's hosts.toml command: scripts/hosts-sync.sh and hosts-clear.sh on the host, which hand
 * the files to scripts/hosts-node.sh inside the node in one `docker exec`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { parseHostsList } from "../../../components/doctor/parse";
import { hostsScript } from "../../../components/scripts";
import { DEFAULT_HOSTS_FILES, DOCKER_IO_TOML, REGISTRY_TOML } from "../fixtures";
import { readScript, scriptHarness } from "./harness";

const h = scriptHarness();
/** scripts/hosts-node.sh as node_script prints it inside `$(...)`: trailing newlines go. */
const NODE_SCRIPT = readScript("hosts-node").replace(/\n+$/, "");
const EXEC = ["exec", "dev-worker", "sh", "-c", NODE_SCRIPT, "sh", "/etc/containerd/certs.d"];

describe("hosts-sync and hosts-clear", () => {
  const script = hostsScript("dev-worker", DEFAULT_HOSTS_FILES);

  it("hand every file to the node script in one docker exec, the texts as arguments", () => {
    const r = h.run(script);
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ["info"],
      [
        ...EXEC,
        ...["localhost:5001", REGISTRY_TOML, "kind-registry:5000", REGISTRY_TOML],
        ...["docker.io", DOCKER_IO_TOML],
      ],
    ]);
  });

  it("fail naming the node when the node cannot be written", () => {
    const r = h.run(script, "create", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: could not write the hosts.toml files on dev-worker (see the error above)\n",
    );
  });

  it.each([
    "PATH docker.io",
    "HOSTS_TOML_ docker.io",
    "HOSTS_TOML_X-Y docker.io",
    "HOSTS_TOML_GONE docker.io",
  ])("refuse the list line %j: it names no HOSTS_TOML_ variable that is set", (line) => {
    const r = h.run(script, "create", { HOSTS: `${line}\n` });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "pulumi-kind-dev: HOSTS names no variable HOSTS_TOML_* that is set, in the line for 'docker.io'\n",
    );
    expect(r.calls.map((c) => c.argv[0])).toEqual(["info"]);
  });

  it("on delete ask the node script to remove what it wrote, and never fail", () => {
    const r = h.run(script, "delete", { FAKE_DOCKER_EXIT: "1" });
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([EXEC]);
  });

  it("deliver any node name and text unchanged, so no input can alter the command (property)", () => {
    // Environment values cannot hold NUL; everything else is fair game. Host directories are
    // validated host names (config.ts) and checked again inside the node.
    const value = fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\0"));
    const host = fc.stringMatching(/^[a-z0-9][a-z0-9.:-]{0,20}$/);
    fc.assert(
      fc.property(value, host, value, value, (node, hostDir, text1, text2) => {
        h.resetEngine();
        const files = [
          { hostDir, slug: "one", toml: text1 },
          { hostDir: "docker.io", slug: "docker-io", toml: text2 },
        ];
        const r = h.run(hostsScript(node, files));
        expect(r.status).toBe(0);
        expect(r.calls.at(-1)!.argv).toEqual([
          ...["exec", node, ...EXEC.slice(2)],
          ...[hostDir, text1, "docker.io", text2],
        ]);
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});

describe("hosts-node, inside the node", () => {
  let root: string;
  let certs: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(h.stateHome(), "node-"));
    certs = path.join(root, "certs.d");
  });

  /** Runs hosts-node.sh as the node's `sh -c` does, with these arguments. */
  const node = (...args: string[]) => h.sh(NODE_SCRIPT, {}, ["sh", ...args]);
  /** On `certs` instead of /etc/containerd/certs.d. */
  const inNode = (...pairs: string[]) => node(certs, ...pairs);
  function tree(dir: string = certs): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) {
        const p = path.join(e.parentPath, e.name);
        out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
      }
    }
    return out;
  }

  it("writes the files and their manifest, rewrites only what changed, removes only what it wrote", () => {
    const first = inNode("localhost:5001", REGISTRY_TOML, "docker.io", DOCKER_IO_TOML);
    expect(first.stdout).toBe(
      `wrote ${certs}/localhost:5001/hosts.toml\nwrote ${certs}/docker.io/hosts.toml\n`,
    );
    expect(tree()).toEqual({
      ".kind-dev-managed": "localhost:5001\ndocker.io\n",
      "localhost:5001/hosts.toml": REGISTRY_TOML,
      "docker.io/hosts.toml": DOCKER_IO_TOML,
    });
    // Byte for byte: a trailing newline is a change.
    const kept = fs.statSync(path.join(certs, "docker.io/hosts.toml")).ino;
    const changed = inNode("localhost:5001", `${REGISTRY_TOML}\n`, "docker.io", DOCKER_IO_TOML);
    expect(changed.stdout).toBe(
      `wrote ${certs}/localhost:5001/hosts.toml\nkept ${certs}/docker.io/hosts.toml\n`,
    );
    expect(fs.statSync(path.join(certs, "docker.io/hosts.toml")).ino).toBe(kept);
    // Written by hand, or by version 0.1 (no manifest entry): not this script's to remove.
    fs.mkdirSync(path.join(certs, "ghcr.io"));
    fs.writeFileSync(path.join(certs, "ghcr.io/hosts.toml"), "by hand\n");
    const fewer = inNode("docker.io", DOCKER_IO_TOML);
    expect(fewer.stdout).toBe(
      `kept ${certs}/docker.io/hosts.toml\nremoved ${certs}/localhost:5001\n`,
    );
    expect(tree()).toEqual({
      ".kind-dev-managed": "docker.io\n",
      "docker.io/hosts.toml": DOCKER_IO_TOML,
      "ghcr.io/hosts.toml": "by hand\n",
    });
    // No files: the delete step.
    expect(inNode()).toMatchObject({ status: 0, stdout: `removed ${certs}/docker.io\n` });
    expect(fs.readdirSync(certs)).toEqual(["ghcr.io"]);
  });

  it("never follows a manifest line out of certs.d", () => {
    fs.mkdirSync(certs);
    fs.mkdirSync(path.join(root, "outside"));
    fs.writeFileSync(
      path.join(certs, ".kind-dev-managed"),
      `../outside\n.\n..\n\n.kind-dev-managed\n${root}/outside\n`,
    );
    expect(inNode().status).toBe(0);
    expect(fs.existsSync(path.join(root, "outside"))).toBe(true);
    expect(fs.existsSync(certs)).toBe(true);
  });

  it.each([[""], ["."], [".."], [".kind-dev-managed"], ["../outside"], ["a/b"], ["a\nb"]])(
    "refuses the host directory %j and writes nothing",
    (dir) => {
      const r = inNode(dir, "x");
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`not a host directory: '${dir}'\n`);
      expect(tree(root)).toEqual({});
    },
  );

  it("refuses a missing or relative certs.d and an odd number of arguments", () => {
    expect(node().stderr).toBe("expected the certs.d directory as an absolute path, got ''\n");
    expect(node("certs.d", "a", "x").status).toBe(2);
    const odd = node(certs, "a");
    expect(odd.status).toBe(2);
    expect(odd.stderr).toBe(
      "expected pairs of host directory and hosts.toml text, got 1 arguments\n",
    );
  });

  it("with --list prints each hosts.toml as its directory and text, NUL-ended, and changes nothing", () => {
    expect(node("--list", certs)).toMatchObject({ status: 0, stdout: "" });
    inNode("localhost:5001", REGISTRY_TOML, "docker.io", DOCKER_IO_TOML);
    fs.mkdirSync(path.join(certs, "ghcr.io"));
    fs.writeFileSync(path.join(certs, "ghcr.io/hosts.toml"), "by hand\n\n");
    const before = tree();
    const r = node("--list", certs);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `docker.io\0${DOCKER_IO_TOML}\0ghcr.io\0by hand\n\n\0localhost:5001\0${REGISTRY_TOML}\0`,
    );
    expect(parseHostsList(r.stdout)).toEqual({
      "docker.io": DOCKER_IO_TOML,
      "ghcr.io": "by hand\n\n",
      "localhost:5001": REGISTRY_TOML,
    });
    expect(tree()).toEqual(before);
  });

  it("writes any valid directory's text exactly and nothing outside certs.d (property)", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));
    const dir = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\0"));
    fc.assert(
      fc.property(dir, text, (d, t) => {
        fs.rmSync(root, { recursive: true, force: true });
        fs.mkdirSync(root);
        const r = inNode(d, t);
        const valid = d !== "" && !d.startsWith(".") && !d.includes("/") && !d.includes("\n");
        if (valid) {
          expect(r.status).toBe(0);
          expect(tree(root)).toEqual({
            [path.join("certs.d", d, "hosts.toml")]: t,
            [path.join("certs.d", ".kind-dev-managed")]: `${d}\n`,
          });
        } else {
          expect(r.status).toBe(2);
          expect(tree(root)).toEqual({});
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
