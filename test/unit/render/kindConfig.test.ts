/** components/render/kindConfig.ts and the containerd patch (render/containerd.ts) it carries. */
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONTAINERD_CONFIG_PATCH } from "../../../components/render/containerd";
import { kindNodeNames, renderKindConfig } from "../../../components/render/kindConfig";
import { KIND_CONFIG, KIND_CONFIG_ARGS } from "../fixtures";

describe("renderKindConfig", () => {
  it("renders a control plane only, with the containerd patch and nothing legacy", () => {
    const config = { clusterName: "dev", workers: 0, extraPortMappings: [] };
    // KIND_CONFIG up to its kubelet patch, which one image at a time (the kubelet's default) drops.
    const patched = KIND_CONFIG.slice(0, KIND_CONFIG.indexOf("kubeadmConfigPatches:"));
    expect(renderKindConfig({ ...config, maxParallelImagePulls: 1 })).toBe(
      `${patched}nodes:\n  - role: control-plane\n`,
    );
  });

  it("renders workers, the node image on every node and port mappings on the control plane", () => {
    expect(renderKindConfig({ ...KIND_CONFIG_ARGS, maxParallelImagePulls: 5 })).toBe(KIND_CONFIG);
  });

  it("parses as the YAML structure kind expects, and the patch as TOML", () => {
    const doc = parseYaml(KIND_CONFIG) as {
      containerdConfigPatches: string[];
      kubeadmConfigPatches: string[];
      nodes: { role: string }[];
    };
    // No apiVersion: kind then matches the patch to kubeadm v1beta3 and v1beta4 configs alike.
    expect(doc.kubeadmConfigPatches.map((p) => parseYaml(p) as unknown)).toEqual([
      { kind: "KubeletConfiguration", serializeImagePulls: false, maxParallelImagePulls: 5 },
    ]);
    expect(doc).toMatchObject({ kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4" });
    expect(doc.nodes.map((n) => n.role)).toEqual(["control-plane", "worker", "worker"]);
    expect(doc.containerdConfigPatches).toEqual([CONTAINERD_CONFIG_PATCH]);
    expect(parseToml(CONTAINERD_CONFIG_PATCH)).toEqual({
      plugins: {
        "io.containerd.grpc.v1.cri": { registry: { config_path: "/etc/containerd/certs.d" } },
      },
    });
  });
});

describe("kindNodeNames", () => {
  it.each([
    [0, ["dev-control-plane"]],
    [1, ["dev-control-plane", "dev-worker"]],
    [3, ["dev-control-plane", "dev-worker", "dev-worker2", "dev-worker3"]],
  ])("with %i workers", (workers, expected) => {
    expect(kindNodeNames("dev", workers)).toEqual(expected);
  });
});
