import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { ShellCommand } from "./render/scripts";

/** A `local.Command` that runs a rendered script with its environment. */
export function shellCommand(
  name: string,
  rendered: ShellCommand,
  opts: pulumi.CustomResourceOptions,
  overrides: {
    /** Replaces the rendered environment, e.g. with a secret that adds credentials. */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly triggers?: pulumi.Input<unknown[]>;
  } = {},
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: rendered.create,
      ...(rendered.delete === undefined ? {} : { delete: rendered.delete }),
      environment: overrides.environment ?? { ...rendered.environment },
      ...(overrides.triggers === undefined ? {} : { triggers: overrides.triggers }),
    },
    opts,
  );
}
