/**
 * Inputs and exact texts the unit tests share: each text is written out here once, the renderer
 * that makes it is tested against it, and the layers above compare with the same constant.
 */
import type { HostsFile } from "../../components/render/hostsToml";
import type { PortMapping } from "../../components/render/kindConfig";

/** The default registry and Docker Hub cache, as plain spec inputs. */
export const REGISTRY_INPUT = {
  name: "kind-registry",
  image: "registry:3",
  network: "kind",
  volume: "kind-registry-data",
  hostIp: "127.0.0.1",
  hostPort: 5001,
} as const;

export const DOCKER_HUB_CACHE_INPUT = {
  name: "kind-cache-docker-io",
  image: "registry:3",
  network: "kind",
  volume: "kind-cache-docker-io-data",
  upstreamHost: "docker.io",
  remoteUrl: "https://registry-1.docker.io",
  hostIp: "127.0.0.1",
} as const;

/** hosts.toml of both of the push registry's hosts (localhost:5001 and kind-registry:5000). */
export const REGISTRY_TOML = '[host."http://kind-registry:5000"]\n';
/** hosts.toml of docker.io behind the default cache. */
export const DOCKER_IO_TOML =
  'server = "https://registry-1.docker.io"\n\n[host."http://kind-cache-docker-io:5000"]\n  capabilities = ["pull", "resolve"]\n';

/** The files every node gets with the default arguments, in plan order. */
export const DEFAULT_HOSTS_FILES: HostsFile[] = [
  { hostDir: "localhost:5001", slug: "localhost-5001", toml: REGISTRY_TOML },
  { hostDir: "kind-registry:5000", slug: "kind-registry-5000", toml: REGISTRY_TOML },
  { hostDir: "docker.io", slug: "docker-io", toml: DOCKER_IO_TOML },
];

/** A node command's environment for those files, less NODE and the script texts. */
export const DEFAULT_HOSTS_ENVIRONMENT = {
  HOSTS:
    "HOSTS_TOML_LOCALHOST_5001 localhost:5001\n" +
    "HOSTS_TOML_KIND_REGISTRY_5000 kind-registry:5000\n" +
    "HOSTS_TOML_DOCKER_IO docker.io\n",
  HOSTS_TOML_LOCALHOST_5001: REGISTRY_TOML,
  HOSTS_TOML_KIND_REGISTRY_5000: REGISTRY_TOML,
  HOSTS_TOML_DOCKER_IO: DOCKER_IO_TOML,
};

/** The kind config of cluster dev: two workers, a node image, two port mappings. */
export const KIND_CONFIG_ARGS = {
  clusterName: "dev",
  workers: 2,
  nodeImage: "kindest/node:v1.34.0",
  extraPortMappings: [
    { containerPort: 80, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
    { containerPort: 53, hostPort: 5353, listenAddress: "0.0.0.0", protocol: "UDP" },
  ] as PortMapping[],
};
export const KIND_CONFIG = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: "dev"
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
kubeadmConfigPatches:
  - |-
    kind: KubeletConfiguration
    serializeImagePulls: false
    maxParallelImagePulls: 5
nodes:
  - role: control-plane
    image: "kindest/node:v1.34.0"
    extraPortMappings:
      - containerPort: 80
        hostPort: 8080
        listenAddress: "127.0.0.1"
        protocol: TCP
      - containerPort: 53
        hostPort: 5353
        listenAddress: "0.0.0.0"
        protocol: UDP
  - role: worker
    image: "kindest/node:v1.34.0"
  - role: worker
    image: "kindest/node:v1.34.0"
`;
