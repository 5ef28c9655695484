/**
 * Where one `pulumi up` spent its time, from the engine's own trace: `pulumi up --otel-traces
 * file://FILE` writes OpenTelemetry spans (OTLP JSON, one export per line) of the CLI, the
 * language host, the program and every provider.
 */
import { readFileSync } from "node:fs";

interface Span {
  service: string;
  name: string;
  start: number;
  end: number;
  /** The gRPC request and response, as the span's "Msg" attributes. */
  msgs: string;
}

type Attrs = { key: string; value: { stringValue?: string } }[];
interface Otlp {
  resourceSpans: {
    resource: { attributes: Attrs };
    scopeSpans: {
      spans: {
        name: string;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes?: Attrs;
      }[];
    }[];
  }[];
}

const seconds = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1e6;

export function readSpans(file: string): Span[] {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  return lines.flatMap((line) =>
    (JSON.parse(line) as Otlp).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((s) => ({
          service:
            rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "",
          name: s.name,
          start: seconds(s.startTimeUnixNano),
          end: seconds(s.endTimeUnixNano),
          msgs: (s.attributes ?? [])
            .filter((a) => a.key === "Msg")
            .map((a) => a.value.stringValue)
            .join(" "),
        })),
      ),
    ),
  );
}

/** Seconds of one `pulumi up`, relative to the CLI's start. */
export interface UpTrace {
  /** The CLI process, start to exit. */
  cli: number;
  /** CLI start until the language host starts node with the program. */
  toProgram: number;
  /** Node, @pulumi/pulumi and the program's modules, until the component registers. */
  programLoad: number;
  /** Each resource (logical name): the program registers it until the engine is done with it. */
  resources: Record<string, [number, number]>;
  /** The kubernetes provider's Configure (it downloads the cluster's OpenAPI document). */
  k8sConfigure: number;
  /** After the last resource is done until the CLI exits (outputs, state, plugins' shutdown). */
  finish: number;
  /** The Node.js language host's version, from its GetPluginInfo answer. */
  languageHost: string;
}

export function upTrace(file: string): UpTrace {
  const spans = readSpans(file);
  const root = spans.find((s) => s.service === "pulumi-cli" && s.name === "pulumi");
  const exec = spans.find((s) => s.name === "execNodejs");
  if (!root || !exec) {
    throw new Error(`${file}: no CLI or program span (is this a pulumi up trace?)`);
  }
  const t0 = root.start;
  const resources: Record<string, [number, number]> = {};
  for (const s of spans) {
    if (s.service === "pulumi-language-host" && s.name.endsWith("/RegisterResource")) {
      const name = /name:\\?"([^"\\]+)/.exec(s.msgs)?.[1];
      if (name !== undefined) {
        resources[name] = [s.start - t0, s.end - t0];
      }
    }
  }
  const own = Object.entries(resources).filter(([n]) => !n.startsWith("kind-dev-"));
  const component = Math.min(...own.map(([, [a]]) => a));
  const lastDone = Math.max(...own.map(([, [, b]]) => b));
  const configure = spans.find((s) => s.service === "kubernetes" && s.name.endsWith("/Configure"));
  const host = spans.find(
    (s) => s.service === "pulumi-language-host" && s.name.endsWith("/GetPluginInfo"),
  );
  return {
    cli: root.end - root.start,
    toProgram: exec.start - t0,
    programLoad: component - (exec.start - t0),
    resources: Object.fromEntries(own),
    k8sConfigure: configure ? configure.end - configure.start : NaN,
    finish: root.end - t0 - lastDone,
    languageHost: /version:\\*"v?([^"\\]+)/.exec(host?.msgs ?? "")?.[1] ?? "?",
  };
}
