// A bad STEWARD_KEYS is reported with every other bad setting, at once, one line per problem,
// before anything starts, and without echoing the key.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { StewardError } from "../../src/errors.js";

const BAD_KEY = "k1:c2hvcnQta2V5LW11c3QtbmV2ZXItYmUtZWNob2Vk";
const BAD = {
  STEWARD_PORT: "99999",
  DATABASE_URL: "mysql://nope",
  STEWARD_ADMIN_TOKEN: "short",
  STEWARD_KEYS: BAD_KEY,
};
const EXPECTED = [
  "Invalid configuration:",
  "  - STEWARD_PORT must be a port number from 0 to 65535",
  "  - DATABASE_URL must be a postgres:// or postgresql:// URL",
  "  - STEWARD_ADMIN_TOKEN must be at least 32 characters",
  "  - STEWARD_KEYS entry 1: the key is not base64 of 32 bytes",
].join("\n");

describe("loadConfig", () => {
  it("lists a malformed STEWARD_KEYS beside the other bad settings", () => {
    let thrown: unknown;
    try {
      loadConfig(BAD);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StewardError);
    expect((thrown as StewardError).code).toBe("config_invalid");
    expect((thrown as StewardError).message).toBe(EXPECTED);
  });

  it("names each bad entry of the ring by position alone", () => {
    const good = `k2:${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => loadConfig({ STEWARD_KEYS: `${good},${good}` })).toThrow(
      "Invalid configuration:\n  - STEWARD_KEYS entry 2: its kid repeats the kid of entry 1",
    );
    expect(loadConfig({ STEWARD_KEYS: good }).keys).toBe(good);
    expect(loadConfig({}).keys).toBeUndefined();
  });
});

describe("steward serve with several bad settings", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "steward-config-errors-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("prints every problem at once, one line each, and exits 1 before starting", async () => {
    const inherited = Object.entries(process.env).filter(
      ([name]) => !/^(STEWARD_|GOOGLE_|DATABASE_URL$)/.test(name),
    );
    const failed = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", "serve"],
      {
        env: { ...Object.fromEntries(inherited), ...BAD, STEWARD_DATA_DIR: dataDir },
        timeout: 60_000,
      },
    ).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(EXPECTED);
    expect(failed?.stderr).not.toContain(BAD_KEY.slice(3));
    expect(failed?.stdout).not.toContain("Steward is listening");
  }, 60_000);
});
