import { describe, expect, it } from "vitest";
import type { DoctorReport } from "../../../components/doctor/doctor";
import {
  formatDoctorReport,
  formatTable,
  styleFor,
  summarize,
} from "../../../components/doctor/report";
import type { CheckResult } from "../../../components/doctor/checks";

const RESULTS: CheckResult[] = [
  {
    id: "docker",
    title: "Docker answers",
    status: "pass",
    detail: "Docker engine 20.10.24",
    remedy: "",
  },
  {
    id: "registry.network",
    title: "registry on the cluster's network",
    status: "fail",
    detail: "kind-registry is not on network kind (on: none): the nodes cannot reach it by name",
    remedy: "docker network connect kind kind-registry",
  },
  {
    id: "node.resolve@dev-worker/kind-registry",
    title: "dev-worker resolves kind-registry",
    status: "fail",
    detail: "kind-registry does not resolve inside dev-worker",
    remedy: "docker network connect kind kind-registry",
    causedBy: "registry.network",
  },
  {
    id: "registry.published",
    title: "registry published on loopback only",
    status: "warn",
    detail: "published on 0.0.0.0:5001: any machine that reaches this one can push and pull",
    remedy: "set bindAddress: 127.0.0.1 (the default) and run pulumi up",
  },
];

describe("formatTable", () => {
  it("prints one row per check, the remedy under a root fault, the root under a consequence", () => {
    expect(formatTable(RESULTS, { colour: false })).toBe(
      [
        "      CHECK                                DETAIL",
        "ok    Docker answers                       Docker engine 20.10.24",
        "FAIL  registry on the cluster's network    kind-registry is not on network kind (on: none): the nodes cannot reach it by name",
        "      -> docker network connect kind kind-registry",
        "FAIL  dev-worker resolves kind-registry    kind-registry does not resolve inside dev-worker",
        "      follows from: registry on the cluster's network",
        "WARN  registry published on loopback only  published on 0.0.0.0:5001: any machine that reaches this one can push and pull",
        "      -> set bindAddress: 127.0.0.1 (the default) and run pulumi up",
        "",
      ].join("\n"),
    );
  });

  it("colours statuses only when asked", () => {
    const coloured = formatTable(RESULTS, { colour: true });
    expect(coloured).toContain("\u001b[32mok  \u001b[0m  Docker answers");
    expect(coloured).toContain("\u001b[31mFAIL\u001b[0m");
  });
});

describe("styleFor", () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [undefined, {}, false],
    [true, { NO_COLOR: "1" }, false],
  ])("isTTY %s, env %j: colour %s", (isTTY, env, colour) => {
    expect(styleFor({ isTTY }, env)).toEqual({ colour });
  });
});

describe("summaries", () => {
  it("counts statuses and root faults", () => {
    expect(summarize(RESULTS)).toBe("4 checks: 1 ok, 1 warning, 2 failed (1 fault at the root)");
  });

  it("shows the checks before and after --fix, and what it did", () => {
    const report: DoctorReport = {
      results: [RESULTS[0] as CheckResult],
      ok: true,
      fixes: [
        {
          id: "registry.network",
          description: "connected kind-registry to network kind",
          ok: true,
        },
      ],
      before: RESULTS.slice(0, 2),
      seconds: 2.345,
    };
    expect(formatDoctorReport(report, { colour: false })).toBe(
      [
        "Before --fix:",
        "      CHECK                              DETAIL",
        "ok    Docker answers                     Docker engine 20.10.24",
        "FAIL  registry on the cluster's network  kind-registry is not on network kind (on: none): the nodes cannot reach it by name",
        "      -> docker network connect kind kind-registry",
        "",
        "Repairs:",
        "  done  connected kind-registry to network kind",
        "",
        "After --fix:",
        "      CHECK           DETAIL",
        "ok    Docker answers  Docker engine 20.10.24",
        "",
        "1 check: 1 ok, 0 warnings, 0 failed; 2.3 s",
        "",
      ].join("\n"),
    );
  });
});
