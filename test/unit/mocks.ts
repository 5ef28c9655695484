/**
 * Pulumi mocks that record every registration. Import this module before the component (the
 * component module must be loaded with a dynamic `import()` after `setMocks`).
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface RecordedOptions {
  readonly type: string;
  readonly name: string;
  readonly opts: pulumi.ResourceOptions;
  readonly resource: pulumi.Resource;
}

export const registrations: Registration[] = [];
export const options: RecordedOptions[] = [];

/** The kubeconfig the mocked lookup returns. */
export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\n# fake\n";

pulumi.runtime.setMocks(
  {
    newResource(args: pulumi.runtime.MockResourceArgs): {
      id: string;
      state: Record<string, unknown>;
    } {
      registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "command:local:Command") {
        state["stdout"] = "";
        state["stderr"] = "";
      }
      return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      throw new Error(`unmocked invoke ${args.token}`);
    },
  },
  "kind-dev-test",
  "unit",
  false,
);

/** A transformation that records the options of every child of the component. */
export const recordOptions: pulumi.ResourceTransformation = (args) => {
  options.push({ type: args.type, name: args.name, opts: args.opts, resource: args.resource });
  return undefined;
};

export function reset(): void {
  registrations.length = 0;
  options.length = 0;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Resolves once every pending registration has reached the mocks. */
export async function settle(): Promise<void> {
  await pulumi.runtime.awaitStackRegistrations();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
  }
}

export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}
