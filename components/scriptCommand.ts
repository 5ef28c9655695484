import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { Script } from "./scripts";

/**
 * A `local.Command` that runs a script of scripts.ts: its steps are the script's short lines,
 * and its environment carries the values and the script texts they run (scripts.ts
 * scriptSteps).
 */
export function scriptCommand(
  name: string,
  script: Script,
  opts: pulumi.CustomResourceOptions,
  overrides: {
    /**
     * Replaces the script's environment, e.g. with a secret one that adds credentials. It must
     * carry the script texts as the script's does (scriptSteps).
     */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly triggers?: pulumi.Input<unknown[]>;
  } = {},
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: script.create,
      ...(script.update === undefined ? {} : { update: script.update }),
      ...(script.delete === undefined ? {} : { delete: script.delete }),
      environment: overrides.environment ?? { ...script.environment },
      ...(overrides.triggers === undefined ? {} : { triggers: overrides.triggers }),
    },
    opts,
  );
}
