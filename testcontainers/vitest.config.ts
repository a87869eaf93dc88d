import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The container test starts a real container: start-up plus stop within a minute and a half.
    testTimeout: 90_000,
  },
});
