// `steward/emulator`, the subpath Steward exported before the emulator became a package of its
// own, still exports the local Google: `@steward/emulator` re-exported, every name of it, with
// `startEmulator`'s start-up errors still StewardErrors, as this entry threw them before.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as emulatorPackage from "@steward/emulator";
import { describe, expect, it } from "vitest";
import { isStewardError } from "../../src/errors.js";

/** What `steward/emulator` exported before the move (src/emulator/index.ts at 75594d5). */
const EXPORTED_BEFORE = [
  "EmulatorState",
  "GOOGLE_ISSUER",
  "clientSecretJson",
  "startEmulator",
  "writeClientSecretFile",
];

describe("steward/emulator", () => {
  it("exports every name of @steward/emulator, the same values but for startEmulator", async () => {
    const entry = await import("steward/emulator");
    expect(Object.keys(entry).sort()).toEqual(Object.keys(emulatorPackage).sort());
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(EXPORTED_BEFORE));
    const ours = new Map(Object.entries(entry));
    for (const [name, value] of Object.entries(emulatorPackage)) {
      if (name !== "startEmulator") expect(ours.get(name), name).toBe(value);
    }
    expect(ours.get("startEmulator")).not.toBe(emulatorPackage.startEmulator);
  });

  it("starts an emulator, and refuses a taken port with Steward's port_in_use", async () => {
    const { startEmulator } = await import("steward/emulator");
    const first = await startEmulator({ port: 0 });
    try {
      const discovery = await (await fetch(`${first.url}/.well-known/openid-configuration`)).json();
      expect(discovery.token_endpoint).toBe(`${first.url}/token`);
      const error = await startEmulator({ port: first.port }).catch((caught: unknown) => caught);
      expect(isStewardError(error, "port_in_use")).toBe(true);
      expect((error as Error).message).toContain(`Port ${first.port}`);
    } finally {
      await first.close();
    }
  });

  it("is in the package's exports, as Node resolves it for an installed steward", async () => {
    // The built package through node_modules, as a user's code imports it (npm run build first).
    const script = `
      const entry = await import("steward/emulator");
      const emulator = await import("@steward/emulator");
      const { isStewardError } = await import("steward");
      const first = await entry.startEmulator({ port: 0 });
      const error = await entry.startEmulator({ port: first.port }).catch((caught) => caught);
      await first.close();
      console.log(JSON.stringify({ portInUse: isStewardError(error, "port_in_use"),
        names: Object.keys(entry).sort(), theirs: Object.keys(emulator).sort() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "--eval",
      script,
    ]);
    const { portInUse, names, theirs } = JSON.parse(stdout) as Record<string, unknown>;
    expect(portInUse).toBe(true);
    expect(names).toEqual(theirs);
    expect(names).toEqual(expect.arrayContaining(EXPORTED_BEFORE));
  });
});
