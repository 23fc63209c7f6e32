// The seam through which Steward starts its emulator in emulator mode: @steward/emulator, loaded
// on first use; its absence and its start-up failures are StewardErrors.
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStewardError } from "../../src/errors.js";
import { startEmulatorPackage } from "../../src/google/emulator-package.js";

const src = new URL("../../src/", import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "steward-no-emulator-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("startEmulatorPackage", () => {
  it("starts @steward/emulator with the client Steward asks for, keeping its state in dataDir", async () => {
    const google = await startEmulatorPackage({
      port: 0,
      dataDir: join(dir, "state"),
      defaultClient: {
        clientId: "000-seam.apps.googleusercontent.com",
        javascriptOrigins: ["http://127.0.0.1:1"],
        redirectUris: ["http://127.0.0.1:1/oauth2callback"],
      },
    });
    try {
      expect(google.defaultClient.clientId).toBe("000-seam.apps.googleusercontent.com");
      expect(google.stateDir).toBe(join(dir, "state"));
      const discovery = await (
        await fetch(`${google.url}/.well-known/openid-configuration`)
      ).json();
      expect(discovery.token_endpoint).toBe(`${google.url}/token`);
    } finally {
      await google.close();
    }
  });

  it("turns the emulator's port_in_use into Steward's", async () => {
    const first = await startEmulatorPackage({
      port: 0,
      dataDir: join(dir, "first"),
      defaultClient: { clientId: "first", javascriptOrigins: [], redirectUris: [] },
    });
    try {
      const port = Number(new URL(first.url).port);
      const error = await startEmulatorPackage({
        port,
        dataDir: join(dir, "second"),
        defaultClient: { clientId: "second", javascriptOrigins: [], redirectUris: [] },
      }).catch((caught: unknown) => caught);
      expect(isStewardError(error, "port_in_use")).toBe(true);
      expect((error as Error).message).toContain(`Port ${port}`);
    } finally {
      await first.close();
    }
  });

  it("answers emulator_not_installed, naming the package, where it is not installed", async () => {
    // The seam and the error module, alone in a directory no node_modules (nor the repository's
    // tsconfig paths) can be found from, run from there.
    await mkdir(join(dir, "copy", "google"), { recursive: true });
    await writeFile(join(dir, "copy", "package.json"), '{"type":"module"}');
    await copyFile(join(src, "errors.ts"), join(dir, "copy", "errors.ts"));
    await copyFile(
      join(src, "google", "emulator-package.ts"),
      join(dir, "copy", "google", "emulator-package.ts"),
    );
    const script = `import(${JSON.stringify(join(dir, "copy", "google", "emulator-package.ts"))})
      .then((seam) => seam.loadEmulatorPackage())
      .then(() => console.log("loaded"), (error) => console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message })));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), "--input-type=module", "-e", script],
      { cwd: join(dir, "copy"), timeout: 60_000 },
    );
    const error = JSON.parse(stdout);
    expect(error).toMatchObject({ name: "StewardError", code: "emulator_not_installed" });
    expect(error.message).toContain("npm install @steward/emulator");
  });
});
