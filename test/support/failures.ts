/**
 * The failures a new user meets first, and the exact line each prints. The integration test
 * (test/integration/failures.test.ts) brings each one about through `npm run up` and finds its
 * line in the output; a unit test finds each line in docs/troubleshooting.md, with
 * the placeholders below in place of the values.
 */
export interface FailureValues {
  readonly dockerHost?: string;
  readonly image: string;
  readonly port: string;
  readonly registry: string;
  readonly cluster: string;
  /** Docker's reason for not pulling `image`: the last line of its error. */
  readonly reason?: string;
}

/** The values docs/troubleshooting.md shows in their place. */
export const PLACEHOLDERS: FailureValues = {
  image: "<image>",
  port: "<port>",
  registry: "<registryName>",
  cluster: "<clusterName>",
  reason: "<Docker's reason>",
};

export const FAILURES = {
  noDaemon: (v: FailureValues) =>
    `the Docker daemon does not answer (docker info failed${v.dockerHost === undefined ? "" : `, DOCKER_HOST=${v.dockerHost}`}). Start Docker (Docker Desktop, or: sudo systemctl start docker) and run npm run up again.`,
  noKind: () =>
    "kind not on PATH. Install them (https://www.pulumi.com/docs/install/, https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and run npm run up again.",
  registryImage: (v: FailureValues) =>
    `the image ${v.image} is not on this machine and could not be pulled (${v.reason}); nothing was started. Check registryImage, or make ${v.image} available (docker pull ${v.image}), then run pulumi up again.`,
  portTaken: (v: FailureValues) =>
    `port ${v.port} on 127.0.0.1 is taken by another program, so the registry ${v.registry} cannot publish it. Stop that program or set registryPort to a free port.`,
  containerNotOurs: (v: FailureValues) =>
    `a container named ${v.registry} already exists (image ${v.image}) and was not created by pulumi-kind-dev, so it is not adopted and its data is left alone. Remove it (docker rm -f ${v.registry}) or choose another container name.`,
  clusterNotOurs: (v: FailureValues) =>
    `a kind cluster named ${v.cluster} already exists and is not in this stack; delete it (kind delete cluster --name ${v.cluster}) or choose another clusterName`,
  nodeImage: (v: FailureValues) =>
    `the node image ${v.image} is not on this machine and could not be pulled (${v.reason}). Check nodeImage (kind's release notes list the images for each release), then run pulumi up again.`,
} as const satisfies Record<string, (v: FailureValues) => string>;
