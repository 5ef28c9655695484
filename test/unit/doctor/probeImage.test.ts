import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  ociArchitecture,
  probeImage,
  sha256,
  tarWithFile,
} from "../../../components/doctor/probeImage";

describe("tarWithFile", () => {
  it("writes one ustar entry with a valid header checksum, padded, with two end blocks", () => {
    const tar = tarWithFile("hello", Buffer.from("hi\n"));
    expect(tar.length).toBe(512 + 512 + 1024);
    const header = tar.subarray(0, 512);
    expect(header.toString("ascii", 0, 5)).toBe("hello");
    expect(header.toString("ascii", 100, 107)).toBe("0000644");
    expect(header.toString("ascii", 124, 135)).toBe("00000000003");
    expect(header.toString("ascii", 156, 157)).toBe("0");
    expect(header.toString("ascii", 257, 262)).toBe("ustar");
    const stored = parseInt(header.toString("ascii", 148, 154), 8);
    const blanked = Buffer.from(header);
    blanked.fill(" ", 148, 156);
    expect(stored).toBe(blanked.reduce((sum, b) => sum + b, 0));
    expect(tar.toString("utf8", 512, 515)).toBe("hi\n");
    expect(tar.subarray(515).every((b) => b === 0)).toBe(true);
  });

  it("refuses names longer than a ustar name field", () => {
    expect(() => tarWithFile("x".repeat(101), Buffer.alloc(0))).toThrow(
      `tar entry name "${"x".repeat(101)}" is longer than 100 bytes`,
    );
  });
});

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
    expect(tar.toString("ascii", 0, 15)).toBe("kind-dev-doctor");
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
