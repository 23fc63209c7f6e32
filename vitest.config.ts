import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // The workspace packages' sources, not their builds: a test sees an edit without a rebuild,
    // and the demo imports the very product modules the tests start the service from.
    alias: {
      "@steward/emulator": fileURLToPath(
        new URL("./packages/emulator/src/index.ts", import.meta.url),
      ),
      steward: fileURLToPath(new URL("./packages/steward/src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and databases; two cores, so two files at a time.
    maxWorkers: 2,
  },
});
