/**
 * The lifecycle every end-to-end suite runs around the dev stack (stacks/dev) on the real
 * engine: the docker network with a plain registry standing in for each upstream, stacks on a
 * file backend, `pulumi up` (the kubeconfig written from its secret output), an up that must
 * change nothing, destroy, the clean-up of what the suite names (exact names, from its prefix),
 * and what a user looks at when a step fails. Also the checks that prove where an image came
 * from.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack, UpResult } from "@pulumi/pulumi/automation";
import { expect } from "vitest";
import {
  bedStack,
  freePort,
  pulumiEnv,
  REPO_DIR,
  requireE2eBed,
  run,
  startRegistryStandIn,
  tryRun,
  waitFor,
  WRAPPER_DIR,
} from "./bed";
import { e2eStep, Kube } from "./kube";

export const NODE_IMAGE = process.env["KIND_DEV_BED_NODE_IMAGE"] ?? "kind-dev-bed/node:v1.34.0";
/** A debootstrap'ed Debian built by test/bed/images.sh: a base for the images tests push. */
export const BASE_IMAGE = "kind-dev-bed/debian:bookworm";

/** One upstream: a stand-in registry `<prefix>-up-<slug>` behind the cache `<prefix>-cache-<slug>`. */
export interface Upstream {
  readonly host: string;
  readonly slug: string;
  readonly standIn: string;
  readonly cache: string;
  standInPort: number;
  cachePort: number;
}

export interface UpstreamOptions {
  readonly host: string;
  /** Whether the cache gets a hostPort (default true). */
  readonly publish?: boolean;
  /** The stand-in's name, when not `<prefix>-up-<slug>`. */
  readonly standIn?: string;
  /** false: the suite starts the stand-in itself, on `standInPort`, its data on `<standIn>-data`. */
  readonly startStandIn?: boolean;
  /** caches[].credentialsFromDocker; unset: the component's default. */
  readonly credentialsFromDocker?: boolean;
}

/** One stack of the dev stack program, with kubectl on its cluster. */
export class DevStack {
  constructor(
    readonly name: string,
    readonly cluster: string,
    readonly workers: number,
    readonly stack: Stack,
    readonly kube: Kube,
  ) {}

  /** The kind node containers, control plane first. */
  nodes(): string[] {
    const workers = Array.from({ length: this.workers }, (_, i) => `worker${i === 0 ? "" : i + 1}`);
    return ["control-plane", ...workers].map((n) => `${this.cluster}-${n}`);
  }

  /** `pulumi up`, which must succeed; writes the kubeconfig (a secret output) for kubectl. */
  async up(opts: { refresh?: boolean } = {}): Promise<UpResult> {
    const result = await this.stack.up({ ...opts, onOutput: (o) => process.stdout.write(o) });
    expect(result.summary.result).toBe("succeeded");
    const kubeconfig = (await this.stack.outputs())["kubeconfig"];
    expect(kubeconfig?.secret).toBe(true);
    writeFileSync(this.kube.kubeconfigFile, String(kubeconfig?.value), { mode: 0o600 });
    return result;
  }

  /** `pulumi up` and every node Ready. */
  async upReady(): Promise<UpResult> {
    const result = await this.up();
    // kind returns once each node has joined; on a loaded machine a worker's kubelet was seen to
    // restart for half a minute and more before it registered its Node.
    const names = () => this.kube.kubectl("get", "nodes", "-o", "name").trim().split("\n").sort();
    const want = this.nodes()
      .map((n) => `node/${n}`)
      .sort();
    await waitFor(`nodes ${want.join(", ")} registered`, 180_000, () =>
      names().join() === want.join() ? true : undefined,
    ).catch(() => expect(names()).toEqual(want));
    this.kube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=300s");
    return result;
  }

  /** A preview and an up that both find nothing to change. */
  async expectNoChanges(): Promise<void> {
    const changed = (counts: Record<string, number | undefined> = {}) =>
      Object.entries(counts).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
    expect(changed((await this.stack.preview()).changeSummary)).toEqual([]);
    expect(changed((await this.up()).summary.resourceChanges)).toEqual([]);
  }

  /** `pulumi destroy`; returns its output. */
  async destroy(): Promise<string> {
    let output = "";
    await this.stack.destroy({ onOutput: (o) => (output += o) });
    process.stdout.write(output);
    expect(run("kind", ["get", "clusters"]).split("\n")).not.toContain(this.cluster);
    return output;
  }
}

/**
 * Everything one end-to-end suite creates, named after `prefix` (the network is `prefix`, the
 * registry `<prefix>-registry`): create it in beforeAll with `setUp`, remove it in afterAll with
 * `tearDown`, which also runs first in `setUp` for what an aborted run left.
 */
export class DevEnvironment {
  readonly network: string;
  readonly registry: string;
  readonly upstreams: Upstream[];
  registryPort = 0;
  backend = "";
  readonly stacks: DevStack[] = [];
  /** `step(name, body)`: a test that prints its duration, and diagnostics when it fails. */
  readonly step: ReturnType<typeof e2eStep>;

  constructor(
    readonly suite: string,
    readonly prefix: string,
    private readonly upstreamOptions: readonly UpstreamOptions[],
    /** The kind clusters the suite's stacks make. */
    readonly clusters: readonly string[] = [prefix],
  ) {
    this.network = prefix;
    this.registry = `${prefix}-registry`;
    this.upstreams = upstreamOptions.map(({ host, standIn }) => {
      const slug = host.replaceAll(".", "-");
      const names = {
        standIn: standIn ?? `${prefix}-up-${slug}`,
        cache: `${prefix}-cache-${slug}`,
      };
      return { host, slug, ...names, standInPort: 0, cachePort: 0 };
    });
    this.step = e2eStep(suite, () => this.diagnostics());
  }

  upstream(host = "docker.io"): Upstream {
    const u = this.upstreams.find((x) => x.host === host);
    if (u === undefined) {
      throw new Error(`no upstream ${host}`);
    }
    return u;
  }

  /** The registry and the caches: what a stack of this environment keeps on destroy. */
  kept(): string[] {
    return [this.registry, ...this.upstreams.map((u) => u.cache)];
  }

  /** Checks the bed, removes leftovers, starts the network and the upstream stand-ins. */
  async setUp(standInOptions: { restartAlways?: boolean } = {}): Promise<void> {
    requireE2eBed(NODE_IMAGE);
    this.cleanUp();
    this.registryPort = await freePort();
    for (const u of this.upstreams) {
      u.standInPort = await freePort();
      u.cachePort = await freePort();
    }
    this.backend = mkdtempSync(path.join(os.tmpdir(), `${this.prefix}-`));
    run("docker", ["network", "create", this.network]);
    for (const [i, u] of this.upstreams.entries()) {
      if (this.upstreamOptions[i]?.startStandIn !== false) {
        await startRegistryStandIn(u.standIn, this.network, u.standInPort, standInOptions);
      }
    }
  }

  /** A new stack `name` of this environment, for the kind cluster `cluster`. */
  async stack(
    name: string,
    cluster: string,
    opts: { workers?: number; retainOnDestroy?: boolean } = {},
  ): Promise<DevStack> {
    if (!this.clusters.includes(cluster)) {
      throw new Error(`${cluster} is not one of the suite's clusters ${this.clusters.join(", ")}`);
    }
    const workers = opts.workers ?? 1;
    // The dev stack reads its settings as `kind-dev:<name>` (stacks/dev/index.ts).
    const settings = {
      clusterName: cluster,
      workers,
      nodeImage: NODE_IMAGE,
      networkName: this.network,
      registryName: this.registry,
      registryPort: this.registryPort,
      ...(opts.retainOnDestroy === undefined ? {} : { retainOnDestroy: opts.retainOnDestroy }),
      caches: this.caches(),
    };
    const envVars = pulumiEnv(this.backend, `${WRAPPER_DIR}:`);
    const stack = await bedStack({ stackName: name, workDir: REPO_DIR }, envVars);
    await stack.setAllConfig(
      Object.fromEntries(
        Object.entries(settings).map(([key, value]) => [
          `kind-dev:${key}`,
          { value: typeof value === "object" ? JSON.stringify(value) : String(value) },
        ]),
      ),
    );
    const kube = new Kube(path.join(this.backend, `${name}.kubeconfig`));
    const dev = new DevStack(name, cluster, workers, stack, kube);
    this.stacks.push(dev);
    return dev;
  }

  /** The stacks' `caches` setting: one cache a upstream, in front of its stand-in. */
  caches(): Record<string, string | number | boolean>[] {
    return this.upstreams.map((u, i) => {
      const { publish, credentialsFromDocker } = this.upstreamOptions[i] ?? {};
      return {
        upstreamHost: u.host,
        remoteUrl: `http://${u.standIn}:5000`,
        containerName: u.cache,
        ...(publish === false ? {} : { hostPort: u.cachePort }),
        ...(credentialsFromDocker === undefined ? {} : { credentialsFromDocker }),
      };
    });
  }

  /** Destroys and removes every stack, then everything named after the prefix. */
  async tearDown(): Promise<void> {
    for (const s of [...this.stacks].reverse()) {
      await s.stack.destroy().catch(() => undefined);
      await s.stack.workspace.removeStack(s.name).catch(() => undefined);
      rmSync(path.join(REPO_DIR, "stacks/dev", `Pulumi.${s.name}.yaml`), { force: true });
    }
    this.cleanUp();
    if (this.backend !== "") {
      rmSync(this.backend, { recursive: true, force: true });
    }
  }

  private cleanUp(): void {
    for (const c of this.clusters) {
      tryRun("kind", ["delete", "cluster", "--name", c]);
    }
    // -v: the stand-ins keep their data in an anonymous volume, or on `<standIn>-data`.
    for (const c of [...this.kept(), ...this.upstreams.map((u) => u.standIn)]) {
      tryRun("docker", ["rm", "-f", "-v", c]);
      tryRun("docker", ["volume", "rm", `${c}-data`]);
    }
    tryRun("docker", ["network", "rm", this.network]);
  }

  /** Pods, events and nodes of each cluster, the nodes' hosts.toml, registry and cache logs. */
  diagnostics(): string {
    const parts: string[] = [];
    for (const s of this.stacks) {
      parts.push(`=== cluster ${s.cluster}\n${s.kube.diagnostics()}`);
      for (const node of s.nodes()) {
        const toml =
          'for f in /etc/containerd/certs.d/*/hosts.toml; do echo "## $f"; cat "$f"; done';
        parts.push(
          `--- ${node} hosts.toml\n${tryRun("docker", ["exec", node, "sh", "-c", toml]).out}`,
        );
      }
    }
    for (const c of this.kept()) {
      parts.push(`--- ${c} logs\n${tryRun("docker", ["logs", "--tail", "50", c]).out}`);
    }
    return parts.join("\n");
  }
}

/** The repositories a registry on 127.0.0.1:`port` lists. */
export function catalog(port: number): string[] {
  const out = run("curl", ["-fsS", `http://127.0.0.1:${port}/v2/_catalog`]);
  return (JSON.parse(out) as { repositories: string[] }).repositories;
}

export function containerRunning(name: string): boolean {
  return tryRun("docker", ["inspect", "-f", "{{.State.Running}}", name]).out.trim() === "true";
}

/** A container's ID and start time: unchanged when it was neither re-created nor restarted. */
export function identity(name: string): string {
  return run("docker", ["inspect", "-f", "{{.Id}} {{.State.StartedAt}}", name]);
}

/**
 * Builds `dockerfile` and pushes it to the registry on localhost:`port` as `repo:tag`; returns
 * what the registry holds. `flatten`: one layer of its own (exported and imported), so no other
 * image on the nodes shares a blob with it and a node must fetch every blob of it.
 */
export async function buildAndPush(
  port: number,
  repo: string,
  tag: string,
  dockerfile: string,
  flatten = false,
): Promise<PushedImage> {
  const ref = `localhost:${port}/${repo}:${tag}`;
  const built = flatten ? `${ref}-build` : ref;
  run("docker", ["build", "-q", "-t", built, "-"], {
    input: dockerfile,
    env: { DOCKER_BUILDKIT: "0" },
  });
  if (flatten) {
    const container = run("docker", ["create", built]).trim();
    const flat =
      'docker export "$1" | docker import --change "ENV PATH=/usr/local/bin:/bin" - "$2"';
    run("sh", ["-c", flat, "sh", container, ref]);
    run("docker", ["rm", container]);
    run("docker", ["image", "rm", built]);
  }
  run("docker", ["push", ref]);
  // The registry holds it now; the local tag would outlive the registry's port.
  run("docker", ["image", "rm", ref]);
  return manifestOf(port, repo, tag);
}

/** What a registry on 127.0.0.1:`port` holds as `repo:tag`: its manifest's digest, its blobs. */
export interface PushedImage {
  readonly digest: string;
  /** The config's digest, then the layers'. */
  readonly blobs: readonly string[];
}

export async function manifestOf(port: number, repo: string, tag: string): Promise<PushedImage> {
  const accept = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
  ].join(", ");
  const res = await fetch(`http://127.0.0.1:${port}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: accept },
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status, `GET ${repo}:${tag} on port ${port}`).toBe(200);
  const manifest = (await res.json()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  return {
    digest: res.headers.get("docker-content-digest") ?? "",
    blobs: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
  };
}

/** Request lines of a registry's log made by containerd (a node pulling). */
export function containerdRequests(container: string): string[] {
  return tryRun("docker", ["logs", container])
    .out.split("\n")
    .filter((l) => l.includes('"containerd/'));
}

/**
 * Proves the nodes' pulls of `repo` came through the cache: containerd fetched every blob of
 * `image` from the cache, and never asked the upstream's stand-in for anything.
 */
export function expectPulledThrough(u: Upstream, repo: string, image: PushedImage): void {
  const fromCache = containerdRequests(u.cache);
  for (const blob of image.blobs) {
    expect(
      fromCache.some((l) => l.includes(`/v2/${repo}/blobs/${blob}`)),
      `containerd fetched ${blob} of ${repo} from ${u.cache}`,
    ).toBe(true);
  }
  expect(containerdRequests(u.standIn), `containerd requests to ${u.standIn}`).toEqual([]);
}

/** The digests (`sha256:...`) of the images the running containers of pods `selector` run. */
export function podImageDigests(kube: Kube, selector: string): string[] {
  const jsonpath = 'jsonpath={range .items[*].status.containerStatuses[*]}{.imageID}{"\\n"}{end}';
  return kube
    .kubectl("get", "pods", "-l", selector, "-o", jsonpath)
    .split("\n")
    .filter((l) => l !== "")
    .map((id) => id.slice(id.lastIndexOf("@") + 1));
}
