/**
 * The stand-in for the engine's choice between update and replace (engineDiff.ts), on cases
 * whose answer follows from the Go sources it is written from.
 */
import { describe, expect, it } from "vitest";
import { changedPaths, contains, formatPath, parsePath, plannedStep } from "./engineDiff";

describe("the engine's choice between update and replace", () => {
  it("lists one path per changed leaf, added or removed key and array element", () => {
    const olds = { create: "a", environment: { A: "1", B: "2", GONE: "x" }, triggers: ["t"] };
    const news = { create: "a", environment: { A: "1", B: "3", NEW: "y" }, triggers: ["t", "u"] };
    expect(changedPaths(olds, news).map(formatPath)).toEqual([
      "environment.B",
      "environment.GONE",
      "environment.NEW",
      "triggers[1]",
    ]);
    expect(changedPaths({ environment: { A: "1" } }, {}).map(formatPath)).toEqual(["environment"]);
    expect(changedPaths(olds, structuredClone(olds))).toEqual([]);
  });

  it.each([
    ["environment.KIND_CONFIG", ["environment", "KIND_CONFIG"]],
    ["triggers[*]", ["triggers", "*"]],
    ["triggers[0]", ["triggers", 0]],
    ['environment["a.b"]', ["environment", "a.b"]],
  ])("parses %s", (text, path) => {
    expect(parsePath(text)).toEqual(path);
    expect(formatPath(parsePath(text))).toBe(text);
  });

  it("refuses what is not a property path", () => {
    expect(() => parsePath("environment..X")).toThrow(
      'cannot parse the property path "environment..X"',
    );
  });

  it("replaces when a replaceOnChanges path holds the changed path, * matching any element", () => {
    expect(contains(["environment"], ["environment", "KIND_CONFIG"])).toBe(true);
    expect(contains(["environment", "KIND_CONFIG"], ["environment", "KIND_CONFIG"])).toBe(true);
    expect(contains(["environment", "KIND_CONFIG"], ["environment", "KIND_DEV_CREATE"])).toBe(
      false,
    );
    // A whole environment added or removed is not inside one of its keys.
    expect(contains(["environment", "KIND_CONFIG"], ["environment"])).toBe(false);
    expect(contains(["triggers", "*"], ["triggers", 3])).toBe(true);
  });

  it("plans same, update or replace", () => {
    const olds = { create: "a", environment: { CLUSTER: "dev", KIND_DEV_CREATE: "old" } };
    const text = { ...olds, environment: { ...olds.environment, KIND_DEV_CREATE: "new" } };
    const renamed = { ...olds, environment: { ...olds.environment, CLUSTER: "other" } };
    const onName = ["environment.CLUSTER"];
    expect(plannedStep(olds, olds, onName)).toBe("same");
    expect(plannedStep(olds, text, onName)).toBe("update");
    expect(plannedStep(olds, renamed, onName)).toBe("replace");
    expect(plannedStep(olds, text, ["environment"])).toBe("replace");
    expect(plannedStep(olds, renamed)).toBe("update");
  });
});
