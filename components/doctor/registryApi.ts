/**
 * The few calls of the registry HTTP API (distribution's /v2/) the doctor and prune make, from
 * the host, against the push registry's published port.
 */
import type { Blob } from "./probeImage";

/** Every manifest type a tag may point at; the registry answers with the one it stored. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export class RegistryApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegistryApiError";
  }
}

export interface Manifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Record<string, unknown>;
}

/** What the doctor's probes need from a registry. */
export interface RegistryClient {
  ping(): Promise<number>;
  pushBlob(repository: string, blob: Blob): Promise<void>;
  putManifest(repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<string>;
  deleteManifest(repository: string, digest: string): Promise<void>;
}

/**
 * `GET /v2/` until the registry answers 200 or `ms` have passed (a registry just started needs a
 * moment to listen): the last status, or the last error.
 */
export async function pingUntil(
  api: Pick<RegistryClient, "ping">,
  ms: number,
  every = 500,
): Promise<{ readonly status: number } | { readonly error: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = await api.ping().then(
      (status) => ({ status }),
      (e: Error) => ({ error: e.message }),
    );
    if (("status" in last && last.status === 200) || Date.now() >= deadline) {
      return last;
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

export class RegistryApi implements RegistryClient {
  /** @param base `http://127.0.0.1:5001` */
  constructor(
    readonly base: string,
    private readonly timeoutMs = 15_000,
  ) {}

  /** One request; with `ok`, any other status throws, with the start of the body. */
  private async request(
    method: string,
    path: string,
    { ok, shown = path, ...init }: RequestInit & { ok?: number[]; shown?: string } = {},
  ): Promise<Response> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    let r: Response;
    try {
      r = await fetch(url, {
        ...init,
        method,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RegistryApiError(
        `${method} ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      );
    }
    if (ok !== undefined && !ok.includes(r.status)) {
      const body = (await r.text()).trim().slice(0, 300);
      throw new RegistryApiError(
        `${method} ${this.base}${shown} -> ${r.status}${body === "" ? "" : `: ${body}`}`,
      );
    }
    return r;
  }

  /** GET /v2/: the status, or an error when nothing answers. */
  async ping(): Promise<number> {
    const r = await this.request("GET", "/v2/");
    await r.arrayBuffer();
    return r.status;
  }

  async pushBlob(repository: string, blob: Blob): Promise<void> {
    const path = `/v2/${repository}/blobs/${blob.digest}`;
    if ((await this.request("HEAD", path)).status === 200) {
      return;
    }
    const start = `/v2/${repository}/blobs/uploads/`;
    const location = (await this.request("POST", start, { ok: [202] })).headers.get("location");
    if (location === null) {
      throw new RegistryApiError(`POST ${this.base}${start} -> 202 without a Location header`);
    }
    const target = new URL(location, this.base);
    target.searchParams.set("digest", blob.digest);
    await this.request("PUT", target.toString(), {
      body: blob.bytes,
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(blob.bytes.length),
      },
      ok: [201],
      shown: target.pathname,
    });
  }

  /** Stores a manifest under a tag; returns its digest. */
  async putManifest(
    repository: string,
    tag: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string> {
    const r = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      body: bytes,
      headers: { "content-type": mediaType },
      ok: [201],
    });
    return r.headers.get("docker-content-digest") ?? "";
  }

  async getManifest(repository: string, reference: string): Promise<Manifest> {
    const r = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      ok: [200],
    });
    const body = JSON.parse(await r.text()) as Record<string, unknown>;
    return {
      digest: r.headers.get("docker-content-digest") ?? "",
      mediaType:
        r.headers.get("content-type") ??
        (typeof body["mediaType"] === "string" ? body["mediaType"] : ""),
      body,
    };
  }

  async getBlobJson(repository: string, digest: string): Promise<Record<string, unknown>> {
    const r = await this.request("GET", `/v2/${repository}/blobs/${digest}`, { ok: [200] });
    return JSON.parse(await r.text()) as Record<string, unknown>;
  }

  /** Deletes a manifest (and every tag on it) by digest. */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    await this.request("DELETE", `/v2/${repository}/manifests/${digest}`, { ok: [202] });
  }

  /** Follows `Link: <...>; rel="next"`. A repository without tags answers 404: no items. */
  private async paged(path: string, key: string): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = path;
    while (next !== undefined) {
      const r = await this.request("GET", next, { ok: [200, 404] });
      if (r.status === 404) {
        await r.arrayBuffer();
        return out;
      }
      const items = ((await r.json()) as Record<string, unknown>)[key];
      if (Array.isArray(items)) {
        out.push(...items.filter((i): i is string => typeof i === "string"));
      }
      next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") ?? "")?.[1];
    }
    return out;
  }

  async repositories(): Promise<string[]> {
    return this.paged("/v2/_catalog?n=1000", "repositories");
  }

  async tags(repository: string): Promise<string[]> {
    return this.paged(`/v2/${repository}/tags/list`, "tags");
  }
}
