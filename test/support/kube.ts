/**
 * kubectl against one cluster, and the step wrapper of the end-to-end suites: what the e2e
 * files share about clusters and workloads. Uses the test bed's tools (TOOLS_ENV).
 */
import { it, onTestFailed, type TestContext } from "vitest";
import { LOCAL_REGISTRY_HOSTING } from "../../components/render/localRegistryHosting";
import { run, tryRun, waitFor } from "./bed";

/** kubectl with one kubeconfig file. */
export class Kube {
  constructor(readonly kubeconfigFile: string) {}

  kubectl(...args: string[]): string {
    return run("kubectl", ["--kubeconfig", this.kubeconfigFile, ...args]);
  }

  /** kubectl whatever its exit code. */
  tryKubectl(...args: string[]): { ok: boolean; out: string } {
    return tryRun("kubectl", ["--kubeconfig", this.kubeconfigFile, ...args]);
  }

  apply(manifest: string): void {
    run("kubectl", ["--kubeconfig", this.kubeconfigFile, "apply", "-f", "-"], { input: manifest });
  }

  /** The text of the KEP-1755 ConfigMap's `localRegistryHosting.v1`. */
  registryHosting(): string {
    const { namespace, name } = LOCAL_REGISTRY_HOSTING;
    const data = "jsonpath={.data.localRegistryHosting\\.v1}";
    return this.kubectl("get", "configmap", "-n", namespace, name, "-o", data);
  }

  /** A pod's phase in `default`, or "" when it cannot be read. */
  phase(pod: string): string {
    return this.tryKubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}").out.trim();
  }

  /** Waits until the pod in `default` has the phase (Running, Succeeded). */
  async waitPhase(pod: string, phase: string, timeoutMs = 300_000): Promise<void> {
    await waitFor(`pod ${pod} ${phase}`, timeoutMs, () => this.phase(pod) === phase);
  }

  /** Running pods in `default` with the label selector, and their nodes. */
  runningPods(selector: string): { name: string; node: string }[] {
    const jsonpath =
      'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}';
    return this.kubectl("get", "pods", "-n", "default", "-l", selector, "-o", jsonpath)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const [name = "", node = ""] = l.split(" ");
        return { name, node };
      });
  }

  /** Waits until pods with the selector run on every one of `nodes`. */
  async waitOnNodes(
    selector: string,
    nodes: readonly string[],
    timeoutMs = 300_000,
  ): Promise<void> {
    await waitFor(`pods ${selector} running on ${nodes.join(", ")}`, timeoutMs, () => {
      const running = new Set(this.runningPods(selector).map((p) => p.node));
      return nodes.every((n) => running.has(n));
    });
  }

  /** Pods, events and nodes: what a user looks at when a workload does not run. */
  diagnostics(): string {
    return [
      ["pods", "get", "pods", "-A", "-o", "wide"],
      ["events", "get", "events", "-A"],
      ["nodes", "get", "nodes", "-o", "wide"],
    ]
      .map(([title = "", ...args]) => `--- ${title}\n${this.tryKubectl(...args).out}`)
      .join("\n");
  }
}

/**
 * One end-to-end step: prints `[suite] name: N.Ns`, and `diagnostics()` when it fails. The body
 * gets vitest's test context: a step that cannot run calls `ctx.skip(why)` and is reported
 * as skipped.
 */
export function e2eStep(
  suite: string,
  diagnostics: () => string,
): (name: string, body: (ctx: TestContext) => Promise<void> | void, timeoutMs?: number) => void {
  return (name, body, timeoutMs = 1_800_000) => {
    it(
      name,
      async (ctx) => {
        onTestFailed(() => {
          console.log(`[${suite}] diagnostics after failed step "${name}":\n${diagnostics()}`);
        });
        const start = Date.now();
        try {
          await body(ctx);
        } finally {
          console.log(`[${suite}] ${name}: ${((Date.now() - start) / 1000).toFixed(1)}s`);
        }
      },
      timeoutMs,
    );
  };
}

/** A pod in `default` that runs `command` from `image`, optionally on one node or on any. */
export function podManifest(
  name: string,
  image: string,
  command: readonly string[],
  opts: {
    node?: string;
    pullAlways?: boolean;
    env?: Readonly<Record<string, string>>;
    /** Tolerates every taint (a control plane's too). */
    anyNode?: boolean;
  } = {},
): string {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => ({ name: k, value: v }));
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: {
      restartPolicy: "Never",
      ...(opts.node === undefined ? {} : { nodeName: opts.node }),
      ...(opts.anyNode === true ? { tolerations: [{ operator: "Exists" }] } : {}),
      containers: [
        {
          name: "main",
          image,
          ...(opts.pullAlways === true ? { imagePullPolicy: "Always" } : {}),
          command,
          ...(env.length > 0 ? { env } : {}),
        },
      ],
    },
  });
}

/** A DaemonSet in `default` (every node, control plane included) running `image`. */
export function daemonSetManifest(name: string, image: string, command: readonly string[]): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "default" },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          tolerations: [{ operator: "Exists" }],
          containers: [{ name: "main", image, imagePullPolicy: "Always", command }],
        },
      },
    },
  });
}
