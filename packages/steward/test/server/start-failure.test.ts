// A start that fails part-way closes what it had opened: the embedded PostgreSQL and the data
// dir's lock with it, so the next start on the same data dir works.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startService } from "../../src/server/service.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it("closes the vault it opened when a later step fails, so the data dir opens again", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "steward-start-failure-"));
  dirs.push(dataDir);
  const config = loadConfig({ STEWARD_DATA_DIR: dataDir, STEWARD_PORT: "0" });
  const options = { logger: pino({ level: "silent" }), emulatorPort: 0 };
  // A hand-built Config whose webhook secret the dispatcher refuses, after the vault opened.
  const broken = { ...config, webhook: { url: "https://hooks.example.com/steward", secret: "x" } };
  await expect(startService(broken, options)).rejects.toThrow(/secret/);
  const service = await startService(config, options);
  await service.close();
}, 120_000);
