import type * as pulumi from "@pulumi/pulumi";

/** A port published from the control-plane node to the host (kind `extraPortMappings`). */
export interface PortMappingArgs {
  /** Port inside the node, e.g. an ingress controller's hostPort. */
  readonly containerPort: number;
  /** Port on the host. */
  readonly hostPort: number;
  /** Host address to bind. Default `127.0.0.1`; `0.0.0.0` publishes on every interface. */
  readonly listenAddress?: string;
  /** `TCP`, `UDP` or `SCTP`. Default `TCP`. */
  readonly protocol?: string;
}

/** A pull-through cache: a registry in proxy mode in front of one upstream registry. */
export interface CacheArgs {
  /**
   * The registry host that image references name, as containerd sees it: `docker.io`,
   * `ghcr.io`, `quay.io`, `registry.k8s.io`. Required.
   */
  readonly upstreamHost: string;
  /**
   * URL the cache fetches from and the nodes fall back to when the cache is down. Default
   * `https://registry-1.docker.io` for `docker.io`, otherwise `https://<upstreamHost>`.
   */
  readonly remoteUrl?: string;
  /** Container name. Default `kind-cache-<upstreamHost with '.' and ':' as '-'>`. */
  readonly containerName?: string;
  /** Publish the cache on the host at `bindAddress:hostPort`. Default: not published. */
  readonly hostPort?: number;
  /** Upstream user name, passed to the cache as a secret environment variable. Default: none. */
  readonly username?: pulumi.Input<string>;
  /** Upstream password or token, kept secret end to end. Default: none. */
  readonly password?: pulumi.Input<string>;
  /**
   * Take the upstream login from this machine's Docker configuration (what `docker login`
   * stored: `auths`, `credsStore` or `credHelpers`), read again at every `pulumi up` and kept
   * secret, instead of `username` and `password`. Default `false`.
   */
  readonly credentialsFromDocker?: boolean;
  /**
   * For the `docker.io` cache: fetch from the first of the Docker daemon's `registry-mirrors`
   * (`docker info`), read at every `pulumi up`, instead of `remoteUrl`. Default `false`.
   */
  readonly useDockerMirror?: boolean;
  /**
   * For upstreams whose logins expire (ECR's 12-hour tokens): the cache asks this
   * docker-credential-helpers program for its login itself, again after `credentialLifetime`.
   * `ecr-login` names `docker-credential-ecr-login`, found on this machine's PATH and mounted
   * read-only into the cache, where it runs with the cache's environment only: it must be a
   * static binary and need no other file. Needs distribution v3 (`registry:3`). Default: none.
   */
  readonly credentialHelper?: string;
  /** How long the cache reuses the helper's answer, as a Go duration. Default `5m`. */
  readonly credentialLifetime?: string;
  /**
   * How long cached content is kept, as a Go duration (`72h`). Default: the registry's own
   * (168h). Honoured by distribution v3 images (`registry:3`); distribution 2.8 (`registry:2`)
   * has a fixed 168h and ignores it.
   */
  readonly ttl?: string;
}

export interface KindDevEnvironmentArgs {
  /** Name of the kind cluster. Default `kind`. */
  readonly clusterName?: string;
  /** Number of worker nodes besides the control plane. Default `0`. */
  readonly workers?: number;
  /** Node image for every node, e.g. `kindest/node:v1.34.0`. Default: the kind CLI's own. */
  readonly nodeImage?: string;
  /**
   * Most images the kubelet of each node pulls at once (an integer). Default `5`. `1` turns
   * parallel pulls off: the kubelet's own default, one image at a time.
   */
  readonly maxParallelImagePulls?: number;
  /** Ports published from the control-plane node. Default: none. */
  readonly extraPortMappings?: PortMappingArgs[];
  /** Docker network shared by the nodes, the registry and the caches. Default `kind`. */
  readonly networkName?: string;
  /** Push registry container name. Default `kind-registry`. */
  readonly registryName?: string;
  /**
   * Image of the registry and of every cache. Default `registry:3` (distribution v3);
   * `registry:2` (distribution 2.8) still works, without the caches' `ttl`.
   */
  readonly registryImage?: string;
  /** Host port of the push registry, so images are pushed to `localhost:<port>`. Default `5001`. */
  readonly registryPort?: number;
  /**
   * Host address that the registry (and caches with a `hostPort`) bind to. Default `127.0.0.1`;
   * `0.0.0.0` publishes them on every interface.
   */
  readonly bindAddress?: string;
  /** Pull-through caches. Default: one for Docker Hub (`docker.io`). `[]` disables caching. */
  readonly caches?: CacheArgs[];
  /**
   * Keep the network, the registry, the caches and their volumes on `pulumi destroy`, so the
   * next `pulumi up` adopts them with their data. Default `true`; `false` removes them, except a
   * registry or cache another kind cluster still pulls through, and a network still in use.
   */
  readonly retainOnDestroy?: boolean;
}
