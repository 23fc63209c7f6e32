// `steward/emulator`, the subpath Steward exported before the emulator became a package of its
// own, still exports the local Google: it is `@steward/emulator` re-exported, every name of it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as emulatorPackage from "@steward/emulator";
import { describe, expect, it } from "vitest";

/** What `steward/emulator` exported before the move (src/emulator/index.ts at 75594d5). */
const EXPORTED_BEFORE = [
  "EmulatorState",
  "GOOGLE_ISSUER",
  "clientSecretJson",
  "startEmulator",
  "writeClientSecretFile",
];

describe("steward/emulator", () => {
  it("is @steward/emulator: the same start function and every other export", async () => {
    const entry = await import("steward/emulator");
    expect(entry.startEmulator).toBe(emulatorPackage.startEmulator);
    expect(Object.keys(entry).sort()).toEqual(Object.keys(emulatorPackage).sort());
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(EXPORTED_BEFORE));
  });

  it("is in the package's exports, as Node resolves it for an installed steward", async () => {
    // The built package through node_modules, as a user's code imports it (npm run build first).
    const script = `
      const entry = await import("steward/emulator");
      const emulator = await import("@steward/emulator");
      console.log(JSON.stringify({ same: entry.startEmulator === emulator.startEmulator,
        names: Object.keys(entry).sort(), theirs: Object.keys(emulator).sort() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "--eval",
      script,
    ]);
    const { same, names, theirs } = JSON.parse(stdout) as Record<string, unknown>;
    expect(same).toBe(true);
    expect(names).toEqual(theirs);
    expect(names).toEqual(expect.arrayContaining(EXPORTED_BEFORE));
  });
});
