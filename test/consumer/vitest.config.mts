import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `npm run test:consumer`: the team-repo test, on its own because it packs the package and runs
// the real engine (it needs `npm run testbed:e2e`, like the end-to-end suite).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/consumer/**/*.test.ts"],
    testTimeout: 1_200_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
