import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages (the demo) import the product by name: its sources, the very modules the
  // tests start the service from, not a build of them.
  resolve: { alias: { steward: fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and databases; two cores, so two files at a time.
    maxWorkers: 2,
  },
});
