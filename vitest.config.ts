import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "tools/**/*.test.ts"],
    // Integration tests start real brokers and real clients; keep them on few workers so a
    // 2-core machine is not oversubscribed.
    reporters: ["default", "./test/summary-reporter.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
