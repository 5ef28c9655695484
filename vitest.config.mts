import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Script tests start processes; on a machine other work shares, 5 s is not enough.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          // The team repo and the Pulumi YAML program run on the real engine too (test:consumer
          // runs them alone).
          include: ["test/e2e/**/*.test.ts", "test/consumer/**/*.test.ts"],
          testTimeout: 1_800_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
