/**
 * The component from a second Pulumi language, by reference to a release, on the real engine: a
 * Pulumi YAML program in a temporary directory runs `pulumi package add` of the release tag
 * from a local git host standing in for the hosting service (test/support/gitHost.ts):
 * `pulumi package add localhost/OWNER/pulumi-kind-dev.git/provider@v<version>`, the README's
 * command with `localhost` for `github.com` (test/support/install.ts). Pulumi clones the tag, installs the
 * component provider's dependencies (npm, at the repository root, whose workspace it is) and
 * records the package in Pulumi.yaml. Then the program creates a
 * `kind-dev:index:KindDevEnvironment`, builds a Kubernetes provider from its `kubeconfig` output
 * (the TypeScript-only `provider` output does not cross languages) and deploys through it; a
 * fresh copy of the project (no generated files, an empty plugin cache) is restored by
 * `pulumi install` and previews no changes; `destroy` runs from that copy.
 *
 * Needs `npm run testbed:e2e`, the YAML language host (`bash test/bed/language-yaml.sh`;
 * `npm run test:consumer` runs it), git, openssl, and 127.0.0.1:443 free.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BED_BIN } from "../support/bed";
import { ConsumerProject, installedKindDevPlugins, lockVersion } from "../support/gitHost";
import { packageAddArgs, recordedPackage } from "../support/install";
import { NODE_IMAGE } from "../support/lifecycle";

const NAME = "kdev-pkg-yaml";
/**
 * The kubernetes plugin the program pins, as a team pins it: `pulumi install` otherwise asks the
 * hosting service for the newest release. The bed builds the lock file's version.
 */
const KUBERNETES_VERSION = lockVersion("@pulumi/kubernetes");

const BODY = `config:
  registryPort:
    type: integer
resources:
  env:
    type: kind-dev:index:KindDevEnvironment
    properties:
      clusterName: ${NAME}
      workers: 1
      nodeImage: ${NODE_IMAGE}
      networkName: ${NAME}
      registryName: ${NAME}-registry
      registryPort: \${registryPort}
      caches: []
      retainOnDestroy: false
  k8s:
    type: pulumi:providers:kubernetes
    properties:
      kubeconfig: \${env.kubeconfig}
    options:
      version: ${KUBERNETES_VERSION}
  app:
    type: kubernetes:apps/v1:Deployment
    properties:
      metadata:
        namespace: default
      spec:
        replicas: 1
        selector:
          matchLabels:
            app: yaml-app
        template:
          metadata:
            labels:
              app: yaml-app
          spec:
            containers:
              - name: app
                image: registry.k8s.io/pause:3.10.1
                imagePullPolicy: Never
    options:
      provider: \${k8s}
      version: ${KUBERNETES_VERSION}
outputs:
  nodeNames: \${env.nodeNames}
  registryHost: \${env.registryHost}
  readyReplicas: \${app.status.readyReplicas}
`;

describe("a Pulumi YAML program adds the component by its release tag", () => {
  const c = new ConsumerProject({
    label: "yaml",
    name: NAME,
    stackName: "yaml",
    tools: ["pulumi-language-yaml", "pulumi-language-nodejs"].map((t) => path.join(BED_BIN, t)),
    toolsHint: "'npm run testbed:e2e' and 'bash test/bed/language-yaml.sh'",
    gitHost: true,
  });
  const plugin = () => `resource-localhost_OWNER_pulumi-kind-dev.git_provider-${c.host?.tag}`;

  it("pulumi package add of the tag records it in Pulumi.yaml", async () => {
    const host = c.host!;
    writeFileSync(path.join(c.project, "Pulumi.yaml"), `name: ${NAME}\nruntime: yaml\n`);
    await c.command("pulumi", packageAddArgs(host.host, host.tag), c.project);
    const recorded = readFileSync(path.join(c.project, "Pulumi.yaml"), "utf8");
    expect((parse(recorded) as { packages: unknown }).packages).toEqual({
      "kind-dev": recordedPackage(host.host, host.tag),
    });
    expect(installedKindDevPlugins(c.home)).toEqual([plugin()]);
    appendFileSync(path.join(c.project, "Pulumi.yaml"), BODY);
  });

  it("up creates the environment and a Deployment through a provider built from kubeconfig", async () => {
    const outputs = await c.up();
    expect(outputs["readyReplicas"]?.value).toBe(1);
    const state = (await c.stack!.exportStack()).deployment as { resources: { type: string }[] };
    const types = state.resources.map((r) => r.type);
    expect(types).toContain("kind-dev:index:KindDevEnvironment");
    expect(types).toContain("pulumi:providers:kind-dev");
  });

  it("a preview right after up shows no changes", () => c.expectNoChanges());

  it("pulumi install restores the package in a fresh copy, which previews no changes", async () => {
    const { home } = await c.freshCopy();
    expect(installedKindDevPlugins(home)).toEqual([plugin()]);
    await c.expectNoChanges();
  });

  it("destroy (from the fresh copy) removes the cluster, the registry and the network", () =>
    c.destroy());
});
