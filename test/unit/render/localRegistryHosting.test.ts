/** components/render/localRegistryHosting.ts: the KEP-1755 ConfigMap's value. */
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { renderLocalRegistryHosting } from "../../../components/render/localRegistryHosting";

it("renders the four KEP-1755 fields", () => {
  const value = {
    host: "localhost:5001",
    hostFromContainerRuntime: "localhost:5001",
    hostFromClusterNetwork: "kind-registry:5000",
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/",
  };
  const yaml = renderLocalRegistryHosting(value);
  expect(yaml).toBe(
    `host: "localhost:5001"
hostFromContainerRuntime: "localhost:5001"
hostFromClusterNetwork: "kind-registry:5000"
help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
`,
  );
  expect(parseYaml(yaml)).toEqual(value);
});
