import { defineConfig } from "vitest/config";

// Default isolation stays on: Pulumi mock tests need a fresh module graph per file.
export default defineConfig({
  test: {
    include: ["configs/**/*.test.ts", "experiment/**/*.test.ts", "infra/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One core of real throughput: more workers only contend.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
