import * as fs from "node:fs";
import * as path from "node:path";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { contextBuilder } from "./lookup";
import { imageReference, KindDevArgumentError } from "./validate";

export interface LocalImageArgs {
  /** Repository in the local registry, e.g. `app` or `team/api`. Required. */
  readonly repository: string;
  /** Tag to push. Default `latest`. */
  readonly tag?: string;
  /** Build context directory. Required. */
  readonly context: string;
  /** Dockerfile, relative to the context. Default `Dockerfile`. */
  readonly dockerfile?: string;
  /**
   * Registry to push to, as the host sees it: the environment's `registryHost`
   * (`localhost:5001`). Required.
   */
  readonly registryHost: pulumi.Input<string>;
  /** Build arguments. Default: none. */
  readonly buildArgs?: Record<string, pulumi.Input<string>>;
  /** Build stage to stop at. Default: the last one. */
  readonly target?: string;
  /** Platform to build for, e.g. `linux/amd64`. Default: the Docker engine's own. */
  readonly platform?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/** Validates the arguments that are plain values; throws KindDevArgumentError. */
export function validateLocalImageArgs(args: LocalImageArgs): void {
  const field = (name: string) => `LocalImage ${name}`;
  if (
    typeof args.repository !== "string" ||
    args.repository.includes(":") ||
    args.repository.includes("@")
  ) {
    throw new KindDevArgumentError(
      field("repository"),
      args.repository,
      "must be a repository path such as app or team/api (no registry, tag or digest)",
    );
  }
  imageReference(field("repository"), args.repository);
  if (args.repository.split("/")[0]?.includes(".")) {
    throw new KindDevArgumentError(
      field("repository"),
      args.repository,
      "must not name a registry: the image goes to registryHost",
    );
  }
  const tag = args.tag ?? "latest";
  if (!TAG.test(tag)) {
    throw new KindDevArgumentError(
      field("tag"),
      tag,
      "must be 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'",
    );
  }
  if (
    typeof args.context !== "string" ||
    !fs.statSync(args.context, { throwIfNoEntry: false })?.isDirectory()
  ) {
    throw new KindDevArgumentError(field("context"), args.context, "must be an existing directory");
  }
  const dockerfile = args.dockerfile ?? "Dockerfile";
  if (!fs.statSync(path.resolve(args.context, dockerfile), { throwIfNoEntry: false })?.isFile()) {
    throw new KindDevArgumentError(
      field("dockerfile"),
      dockerfile,
      `must be a file inside the context ${args.context}`,
    );
  }
  if (args.platform !== undefined && !PLATFORM.test(args.platform)) {
    throw new KindDevArgumentError(
      field("platform"),
      args.platform,
      "must look like linux/amd64 or linux/arm64/v8",
    );
  }
  if (args.target !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(args.target)) {
    throw new KindDevArgumentError(field("target"), args.target, "must be a build stage name");
  }
}

/** The docker context's builder, read by the first LocalImage of the program: one for all. */
let builder: string | undefined;

/**
 * An image built from a local context and pushed to the environment's registry. Pods use `ref`,
 * the digest-pinned reference (`localhost:5001/app@sha256:...`), so a new build rolls out by
 * itself and nothing depends on a mutable tag. `@pulumi/docker-build`'s Image builds it through
 * `docker buildx build` with the builder of the current docker context: the daemon's own
 * BuildKit, for which `localhost:<port>` is the host (a builder in a container would push to
 * itself). The provider hashes the context: an unchanged context is neither rebuilt nor pushed.
 */
export class LocalImage extends pulumi.ComponentResource {
  /** `<registryHost>/<repository>:<tag>`. */
  public readonly imageName: pulumi.Output<string>;
  /** `<registryHost>/<repository>@sha256:...`: what pod specs should name. */
  public readonly ref: pulumi.Output<string>;
  /** `sha256:...` of the pushed manifest. */
  public readonly digest: pulumi.Output<string>;

  constructor(name: string, args: LocalImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kind-dev:index:LocalImage", name, {}, opts);
    validateLocalImageArgs(args);
    const repository = pulumi.interpolate`${args.registryHost}/${args.repository}`;
    this.imageName = pulumi.interpolate`${repository}:${args.tag ?? "latest"}`;
    const image = new dockerbuild.Image(
      `${name}-image`,
      {
        tags: [this.imageName],
        context: { location: args.context },
        dockerfile: { location: path.join(args.context, args.dockerfile ?? "Dockerfile") },
        ...(args.buildArgs === undefined ? {} : { buildArgs: args.buildArgs }),
        ...(args.target === undefined ? {} : { target: args.target }),
        ...(args.platform === undefined
          ? {}
          : { platforms: [args.platform as dockerbuild.Platform] }),
        builder: { name: (builder ??= contextBuilder()) },
        exec: true,
        push: true,
        buildOnPreview: false,
      },
      { parent: this },
    );
    this.digest = image.digest;
    this.ref = pulumi.interpolate`${repository}@${image.digest}`;
    this.registerOutputs({ imageName: this.imageName, ref: this.ref, digest: this.digest });
  }
}
