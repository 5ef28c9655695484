import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ShellCommand } from "./render/scripts";

/** Extra `local.Command` inputs beyond the rendered script and its environment. */
export interface ShellCommandExtras {
  readonly triggers?: pulumi.Input<unknown[]>;
  readonly logging?: command.types.enums.local.Logging;
  readonly addPreviousOutputInEnv?: boolean;
}

/** A `local.Command` that runs a rendered script with its environment. */
export function shellCommand(
  name: string,
  rendered: ShellCommand,
  opts: pulumi.CustomResourceOptions,
  extras: ShellCommandExtras = {},
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: rendered.create,
      ...(rendered.delete === undefined ? {} : { delete: rendered.delete }),
      environment: { ...rendered.environment },
      ...extras,
    },
    opts,
  );
}
