/**
 * `kind-dev prune`: reclaims the push registry's disk. It deletes manifests through the registry
 * API (the component's registry runs with delete enabled), then runs distribution's garbage
 * collector so the blobs really go: in a one-off container of the same image on the same volume,
 * with the registry stopped meanwhile, so that no push can race the collection. Then it starts
 * the registry again and reports what the volume lost. The collector deletes untagged manifests
 * (`--delete-untagged`) only with --untagged: a digest an older deployment or a rollback still
 * names is often untagged.
 */
import { LABEL_MANAGED, LABEL_ROLE, REGISTRY_CONTAINER_PORT } from "../render/containerSpecs";
import { dataVolume, publishedPort, registryUrl } from "./environment";
import { type Exec, execCommand, lastLine } from "../exec";
import { type ContainerInfo, own, parseLines } from "./parse";
import { pingUntil, RegistryApi } from "./registryApi";
import { inspect, readVolumeSizes } from "./facts";

export interface PruneOptions {
  /** Push registry container. Default: the only container labelled as one. */
  readonly registry?: string;
  /**
   * Keep the newest N tags of each repository, by image creation time; delete the others'
   * images. Tags that share an image with a kept tag stay.
   */
  readonly keepLast?: number;
  /**
   * Also delete the manifests no tag points at (what re-pushing a tag leaves behind, and what a
   * deployment by digest may still name): the collector's `--delete-untagged`.
   */
  readonly untagged?: boolean;
  /** Say what would be deleted and how the collector would run; delete nothing, stop nothing. */
  readonly dryRun?: boolean;
  readonly exec?: Exec;
  /** How the registry's HTTP API is reached; the default is RegistryApi (fetch). */
  readonly api?: (baseUrl: string) => PruneApi;
  /** Progress, one line at a time. */
  readonly log?: (line: string) => void;
}

export interface TagInfo {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  /** The image config's `created`, when it has one. */
  readonly created?: string;
  readonly mediaType: string;
}

export interface ManifestDeletion {
  readonly repository: string;
  readonly digest: string;
  /** Every tag that pointed at it. */
  readonly tags: readonly string[];
}

export interface PrunePlan {
  readonly keep: readonly TagInfo[];
  readonly delete: readonly ManifestDeletion[];
}

export interface PruneReport {
  readonly registry: string;
  readonly image: string;
  /** distribution major version, from where its config lives. */
  readonly distribution: 2 | 3;
  readonly plan: PrunePlan;
  /** Whether the collector also removed untagged manifests. */
  readonly deleteUntagged: boolean;
  /** Why untagged manifests were kept, when they were. */
  readonly note?: string;
  /** The collector's own count line, e.g. `12 blobs marked, 7 blobs and 3 manifests eligible for deletion`. */
  readonly collected?: string;
  readonly bytesBefore?: number;
  readonly bytesAfter?: number;
  readonly bytesReclaimed?: number;
  readonly dryRun: boolean;
  readonly seconds: number;
}

/** The calls of the registry API prune makes. */
export type PruneApi = Pick<
  RegistryApi,
  "ping" | "repositories" | "tags" | "getManifest" | "getBlobJson" | "deleteManifest"
>;

export class PruneError extends Error {
  constructor(message: string) {
    super(`kind-dev prune: ${message}`);
    this.name = "PruneError";
  }
}

/** Index and manifest-list media types: their platform manifests carry no tags of their own. */
export function isIndex(mediaType: string): boolean {
  return (
    mediaType === "application/vnd.oci.image.index.v1+json" ||
    mediaType === "application/vnd.docker.distribution.manifest.list.v2+json"
  );
}

const newestFirst = (a: TagInfo, b: TagInfo) =>
  (b.created ?? "").localeCompare(a.created ?? "") || a.tag.localeCompare(b.tag);

/**
 * Which images `--keep-last N` deletes: per repository, tags sorted newest first by image
 * creation time (no time counts as oldest; equal times by tag name), the first N kept. An image
 * is deleted (by digest, which removes every tag on it) only when no kept tag points at it.
 */
export function planKeepLast(tags: readonly TagInfo[], keepLast: number): PrunePlan {
  if (!Number.isInteger(keepLast) || keepLast < 0) {
    throw new PruneError(
      `invalid --keep-last ${String(keepLast)}: must be a whole number of 0 or more`,
    );
  }
  const keep: TagInfo[] = [];
  const deletions: ManifestDeletion[] = [];
  for (const repository of [...new Set(tags.map((t) => t.repository))].sort()) {
    const sorted = tags.filter((t) => t.repository === repository).sort(newestFirst);
    const kept = sorted.slice(0, keepLast);
    const keptDigests = new Set(kept.map((t) => t.digest));
    const doomed = new Map<string, string[]>();
    for (const t of sorted.slice(keepLast)) {
      if (keptDigests.has(t.digest)) {
        kept.push(t);
        continue;
      }
      doomed.set(t.digest, [...(doomed.get(t.digest) ?? []), t.tag]);
    }
    keep.push(...kept);
    for (const [digest, tagList] of doomed) {
      deletions.push({ repository, digest, tags: tagList.sort() });
    }
  }
  return { keep, delete: deletions };
}

/**
 * Where the registry reads its config, from the container's command line (registry:2 images run
 * `... /etc/docker/registry/config.yml`, registry:3 `... /etc/distribution/config.yml`), else
 * guessed from the image tag.
 */
export function registryConfig(
  command: readonly string[],
  image: string,
): { readonly path: string; readonly distribution: 2 | 3 } {
  const path = command.find((a) => /\.ya?ml$/.test(a));
  if (path !== undefined) {
    return { path, distribution: path.startsWith("/etc/docker/registry/") ? 2 : 3 };
  }
  return /:2(\.|$)/.test(image)
    ? { path: "/etc/docker/registry/config.yml", distribution: 2 }
    : { path: "/etc/distribution/config.yml", distribution: 3 };
}

/**
 * The one-off collector: same image, same volumes (`--volumes-from`), the registry's own
 * REGISTRY_* settings (storage driver and paths may be set there), no network.
 */
export function garbageCollectArgv(
  c: ContainerInfo,
  configPath: string,
  deleteUntagged: boolean,
): string[] {
  const env = Object.keys(c.env)
    .filter((k) => k.startsWith("REGISTRY_") && !k.startsWith("REGISTRY_PROXY_"))
    .sort()
    .flatMap((k) => ["--env", `${k}=${c.env[k] ?? ""}`]);
  const collect = ["garbage-collect", ...(deleteUntagged ? ["--delete-untagged"] : []), configPath];
  const run = ["run", "--rm", "--network", "none", "--volumes-from", c.name];
  return [...run, ...env, c.image, ...collect];
}

/**
 * Whether the collector also deletes untagged manifests: only with --untagged, and not on
 * distribution 2.8 while a kept tag is a multi-platform index (its collector would delete the
 * index's platform manifests along with truly untagged ones; fixed in v3). The note says why
 * they stay when --untagged asked for them.
 */
export function collectorMode(
  untagged: boolean,
  distribution: 2 | 3,
  keep: readonly TagInfo[],
): { readonly deleteUntagged: boolean; readonly note?: string } {
  const index = keep.find((t) => isIndex(t.mediaType));
  if (!untagged || distribution === 3 || index === undefined) {
    return { deleteUntagged: untagged };
  }
  return {
    deleteUntagged: false,
    note: `untagged manifests kept: ${index.repository}:${index.tag} is a multi-platform index, and distribution 2.8's collector would delete its platform manifests (use registry:3)`,
  };
}

/** What the collector deletes, for the report. */
export function collectorText(deleteUntagged: boolean): string {
  return deleteUntagged
    ? "untagged manifests, then the blobs no manifest references (garbage-collect --delete-untagged)"
    : "the blobs no manifest references; untagged manifests stay (garbage-collect, no --delete-untagged)";
}

/** The collector's summary line. */
export function collectedLine(output: string): string | undefined {
  return /\d+ blobs marked, \d+ blobs and \d+ manifests eligible for deletion/.exec(output)?.[0];
}

async function findRegistry(exec: Exec, requested: string | undefined): Promise<ContainerInfo> {
  let name = requested;
  if (name === undefined) {
    const role = [`label=${LABEL_MANAGED}=true`, `label=${LABEL_ROLE}=registry`];
    const filters = role.flatMap((f) => ["--filter", f]);
    const r = await exec("docker", ["ps", "-a", ...filters, "--format", "{{.Names}}"]);
    if (r.code !== 0) {
      throw new PruneError(`docker ps failed: ${lastLine(r)}`);
    }
    const names = parseLines(r.stdout).sort();
    if (names.length !== 1) {
      throw new PruneError(
        names.length === 0
          ? `no push registry: no container labelled ${LABEL_ROLE}=registry; name one with --registry`
          : `several push registries (${names.join(", ")}): choose one with --registry`,
      );
    }
    name = names[0] ?? "";
  }
  // docker also takes the name as an ID prefix: only a container of that exact name counts.
  const c = (await inspect(exec, [name])).find((x) => x.name === name);
  if (c === undefined) {
    throw new PruneError(`no container named ${name}`);
  }
  if (!c.running) {
    throw new PruneError(
      `${name} is not running (its API lists and deletes images): docker start ${name}`,
    );
  }
  return c;
}

async function listTags(api: PruneApi): Promise<TagInfo[]> {
  const out: TagInfo[] = [];
  for (const repository of await api.repositories()) {
    for (const tag of await api.tags(repository)) {
      const m = await api.getManifest(repository, tag);
      const configOf = (body: Record<string, unknown>): unknown =>
        (body["config"] as { digest?: unknown } | undefined)?.digest;
      let configDigest = configOf(m.body);
      // An index: the creation time of its first platform's image.
      const first = (m.body["manifests"] as { digest?: unknown }[] | undefined)?.[0]?.digest;
      if (isIndex(m.mediaType) && typeof first === "string") {
        configDigest = configOf((await api.getManifest(repository, first)).body);
      }
      const config =
        typeof configDigest === "string" ? await api.getBlobJson(repository, configDigest) : {};
      const created = typeof config["created"] === "string" ? config["created"] : undefined;
      out.push({
        repository,
        tag,
        digest: m.digest,
        mediaType: m.mediaType,
        ...(created ? { created } : {}),
      });
    }
  }
  return out;
}

export async function runPrune(options: PruneOptions): Promise<PruneReport> {
  const start = Date.now();
  const exec = options.exec ?? execCommand;
  const log = options.log ?? (() => undefined);
  const { keepLast, untagged = false, dryRun = false } = options;
  if (keepLast === undefined && !untagged) {
    throw new PruneError("say what to delete: --keep-last N, --untagged, or both");
  }
  const c = await findRegistry(exec, options.registry);
  const port = publishedPort(c);
  if (port === undefined) {
    throw new PruneError(`${c.name} does not publish port ${REGISTRY_CONTAINER_PORT} on the host`);
  }
  const api = (options.api ?? ((base) => new RegistryApi(base)))(registryUrl(c, port));
  const { path: configPath, distribution } = registryConfig(c.command, c.image);
  const volume = dataVolume(c.name, c);
  const volumeBytes = async () => own((await readVolumeSizes(exec)) ?? {}, volume) ?? undefined;

  log(
    `registry ${c.name} (${c.image}, distribution ${distribution}, config ${configPath}), volume ${volume}`,
  );
  const tags = await listTags(api);
  const plan = keepLast === undefined ? { keep: tags, delete: [] } : planKeepLast(tags, keepLast);
  const { deleteUntagged, note } = collectorMode(untagged, distribution, plan.keep);
  for (const d of plan.delete) {
    log(
      `${dryRun ? "would delete" : "deleting"} ${d.repository}@${d.digest} (${d.tags.join(", ")})`,
    );
  }
  const report = {
    registry: c.name,
    image: c.image,
    distribution,
    plan,
    deleteUntagged,
    ...(note ? { note } : {}),
  };
  if (dryRun) {
    return { ...report, dryRun: true, seconds: (Date.now() - start) / 1000 };
  }

  const bytesBefore = await volumeBytes();
  for (const d of plan.delete) {
    try {
      await api.deleteManifest(d.repository, d.digest);
    } catch (e) {
      const message = (e as Error).message;
      throw new PruneError(
        / -> 405/.test(message)
          ? `${c.name} refuses deletes (405): it runs without REGISTRY_STORAGE_DELETE_ENABLED=true, as the component sets it; nothing was collected`
          : message,
      );
    }
  }

  log(`stopping ${c.name} for the garbage collection`);
  const stop = await exec("docker", ["stop", "--time", "10", c.name]);
  if (stop.code !== 0) {
    throw new PruneError(`docker stop ${c.name} failed: ${lastLine(stop)}`);
  }
  let collected: string | undefined;
  let failure: PruneError | undefined;
  const gc = await exec("docker", garbageCollectArgv(c, configPath, deleteUntagged), {
    timeoutMs: 600_000,
  });
  if (gc.code === 0) {
    collected = collectedLine(`${gc.stdout}\n${gc.stderr}`);
    log(collected ?? "garbage collection done");
  } else {
    failure = new PruneError(`garbage collection failed: ${lastLine(gc)}`);
  }
  // Started again whatever the collection did.
  const started = await exec("docker", ["start", c.name]);
  const answer = started.code === 0 ? await pingUntil(api, 30_000, 250) : undefined;
  if (answer === undefined || !("status" in answer) || answer.status !== 200) {
    throw new PruneError(
      `${c.name} did not come back after the collection (${lastLine(started)})${
        failure === undefined ? "" : `; ${failure.message}`
      }: docker start ${c.name}; docker logs ${c.name}`,
    );
  }
  if (failure !== undefined) {
    throw failure;
  }
  log(`${c.name} answers again`);
  const bytesAfter = await volumeBytes();
  const reclaimed =
    bytesBefore === undefined || bytesAfter === undefined ? undefined : bytesBefore - bytesAfter;
  return {
    ...report,
    ...(collected ? { collected } : {}),
    ...(bytesBefore === undefined ? {} : { bytesBefore }),
    ...(bytesAfter === undefined ? {} : { bytesAfter }),
    ...(reclaimed === undefined ? {} : { bytesReclaimed: reclaimed }),
    dryRun: false,
    seconds: (Date.now() - start) / 1000,
  };
}
