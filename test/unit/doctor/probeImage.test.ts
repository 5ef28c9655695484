import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  ociArchitecture,
  probeImage,
  sha256,
} from "../../../components/doctor/probeImage";

describe("probeImage", () => {
  it("is the same bytes at every run, so pushing it again adds nothing", () => {
    const a = probeImage("amd64");
    const b = probeImage("amd64");
    expect(a.manifest.digest).toBe(b.manifest.digest);
    expect(a.layer.bytes.equals(b.layer.bytes)).toBe(true);
  });

  it("links manifest, config and layer by digest and size", () => {
    const image = probeImage("arm64");
    for (const blob of [image.layer, image.config, image.manifest]) {
      expect(blob.digest).toBe(sha256(blob.bytes));
    }
    const tar = gunzipSync(image.layer.bytes);
    expect(JSON.parse(image.config.bytes.toString())).toEqual({
      architecture: "arm64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    });
    expect(JSON.parse(image.manifest.bytes.toString())).toEqual({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: OCI_CONFIG,
        digest: image.config.digest,
        size: image.config.bytes.length,
      },
      layers: [
        { mediaType: OCI_LAYER_GZIP, digest: image.layer.digest, size: image.layer.bytes.length },
      ],
    });
    expect(tar.equals(Buffer.alloc(1024, 0))).toBe(true);
  });

  it.each([
    ["x64", "amd64"],
    ["arm64", "arm64"],
    ["ia32", "386"],
    ["ppc64", "ppc64le"],
    ["s390x", "s390x"],
  ])("maps process.arch %s to %s", (arch, oci) => {
    expect(ociArchitecture(arch)).toBe(oci);
  });
});
