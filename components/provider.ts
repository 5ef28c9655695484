/**
 * The component provider's entry point (`provider/PulumiPlugin.yaml` runs it): serves
 * KindDevEnvironment to every Pulumi language through `pulumi package add`. Not imported by the
 * package's index: requiring it starts a provider server. The schema comes from the TypeScript
 * source of the component and its args, so it runs from a checkout, not from the npm tarball.
 *
 * The package name is given here rather than taken from an npm name: the type tokens are
 * `kind-dev:index:...` (as every existing stack has them) while the npm package is
 * `pulumi-kind-dev`.
 */
import * as path from "node:path";
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { KindDevEnvironment } from "./kindDevEnvironment";

void componentProviderHost({
  name: "kind-dev",
  // Where the analyzer finds the provider's package.json (name, version, entry point) and the
  // tsconfig.json whose program holds the component's source.
  dirname: path.resolve(__dirname, "../provider"),
  components: [KindDevEnvironment],
});
