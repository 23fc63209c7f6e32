import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** A workspace package's source file, by its path under packages/. */
const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The workspace packages' sources, not their builds: a test sees an edit without a rebuild,
    // and the demo imports the very product modules the tests start the service from.
    // Exact names: `steward` must not swallow its subpath `steward/emulator`.
    alias: [
      { find: /^@steward\/emulator$/, replacement: source("emulator/src/index.ts") },
      { find: /^steward$/, replacement: source("steward/src/index.ts") },
      { find: /^steward\/emulator$/, replacement: source("steward/src/emulator.ts") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and databases; two cores, so two files at a time.
    maxWorkers: 2,
  },
});
