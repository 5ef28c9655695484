/**
 * The doctor's own tiny image, built in memory: one gzipped empty tar archive as its layer (what
 * image builders write for a step that adds no file), an OCI config and manifest. Nothing is
 * pulled, and the bytes are the same at every run (no timestamps), so pushing it again adds
 * nothing to the registry.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/** Repository and tag the doctor pushes, pulls on every node, then deletes. */
export const PROBE_REPOSITORY = "kind-dev-doctor";
export const PROBE_TAG = "probe";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function blob(bytes: Buffer): Blob {
  return { digest: sha256(bytes), bytes };
}

const jsonBlob = (value: object) => blob(Buffer.from(JSON.stringify(value)));

const OCI_ARCHITECTURES = new Map(Object.entries({ x64: "amd64", ia32: "386", ppc64: "ppc64le" }));

/** Node's `process.arch` as an OCI architecture. */
export function ociArchitecture(arch: string): string {
  return OCI_ARCHITECTURES.get(arch) ?? arch;
}

/**
 * The probe image for the nodes' architecture (containerd refuses a single-platform manifest
 * whose config names another one).
 */
export function probeImage(architecture: string): Record<"layer" | "config" | "manifest", Blob> {
  // An empty tar archive: its two 512-byte end blocks.
  const tar = Buffer.alloc(1024, 0);
  const layer = blob(gzipSync(tar, { level: 9 }));
  const config = jsonBlob({
    architecture,
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [sha256(tar)] },
  });
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.bytes.length },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layer.bytes.length }],
  });
  return { layer, config, manifest };
}
