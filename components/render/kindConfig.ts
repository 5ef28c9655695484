import { CONTAINERD_CONFIG_PATCH } from "./containerd";
import { indent, yamlString } from "./text";

export type PortProtocol = "TCP" | "UDP" | "SCTP";

export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly listenAddress: string;
  readonly protocol: PortProtocol;
}

export interface KindConfig {
  readonly clusterName: string;
  readonly workers: number;
  /** Node image for every node; kind's default for its release when absent. */
  readonly nodeImage?: string;
  /** Published from the control-plane node. */
  readonly extraPortMappings: readonly PortMapping[];
  /** Most images each kubelet pulls at once; 1 keeps the kubelet's serial default. */
  readonly maxParallelImagePulls: number;
}

/**
 * A kubeadm patch for the kubelet of every node: pulls in parallel, bounded. It names no
 * apiVersion, so kind applies it to kubeadm v1beta3 (kind <= v0.31) and v1beta4 (kind >= v0.32)
 * configs alike; the KubeletConfiguration kubeadm uploads at init is the one every joining node
 * downloads.
 */
export function renderKubeletPullPatch(maxParallelImagePulls: number): string {
  return [
    "kind: KubeletConfiguration",
    "serializeImagePulls: false",
    `maxParallelImagePulls: ${maxParallelImagePulls}`,
  ].join("\n");
}

function renderNode(role: "control-plane" | "worker", config: KindConfig): string[] {
  const lines = [`  - role: ${role}`];
  if (config.nodeImage !== undefined) {
    lines.push(`    image: ${yamlString(config.nodeImage)}`);
  }
  if (role === "control-plane" && config.extraPortMappings.length > 0) {
    lines.push("    extraPortMappings:");
    for (const m of config.extraPortMappings) {
      lines.push(
        `      - containerPort: ${m.containerPort}`,
        `        hostPort: ${m.hostPort}`,
        `        listenAddress: ${yamlString(m.listenAddress)}`,
        `        protocol: ${m.protocol}`,
      );
    }
  }
  return lines;
}

/** The kind cluster config (`kind.x-k8s.io/v1alpha4`): one control plane plus `workers` workers. */
export function renderKindConfig(config: KindConfig): string {
  const lines = [
    "kind: Cluster",
    "apiVersion: kind.x-k8s.io/v1alpha4",
    `name: ${yamlString(config.clusterName)}`,
    "containerdConfigPatches:",
    "  - |-",
    indent(CONTAINERD_CONFIG_PATCH, 4),
    ...(config.maxParallelImagePulls > 1
      ? [
          "kubeadmConfigPatches:",
          "  - |-",
          indent(renderKubeletPullPatch(config.maxParallelImagePulls), 4),
        ]
      : []),
    "nodes:",
    ...renderNode("control-plane", config),
  ];
  for (let i = 0; i < config.workers; i++) {
    lines.push(...renderNode("worker", config));
  }
  return lines.join("\n") + "\n";
}

/**
 * Node container names as kind assigns them: `<cluster>-control-plane`, then `<cluster>-worker`,
 * `<cluster>-worker2`, `<cluster>-worker3`, ...
 */
export function kindNodeNames(clusterName: string, workers: number): string[] {
  const names = [`${clusterName}-control-plane`];
  for (let i = 1; i <= workers; i++) {
    names.push(`${clusterName}-worker${i === 1 ? "" : String(i)}`);
  }
  return names;
}
