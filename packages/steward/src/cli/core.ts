import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { type Config, loadConfig } from "../config/load.js";
import { type Core, openCore } from "../core/open-core.js";
import { StewardError } from "../errors.js";
import { parseClientSecret } from "../google/client-secret.js";

/** The emulator client file `steward start` writes into the data dir. */
export const EMULATOR_CLIENT_FILE = "client_secret_emulator.json";

/**
 * Runs a CLI command on the core, beside a running service: its PostgreSQL (attached), its key,
 * and in emulator mode the emulator it runs (found through the client file it wrote).
 */
export async function withCore(
  env: NodeJS.ProcessEnv,
  purpose: string,
  work: (core: Core) => Promise<void>,
): Promise<void> {
  const config = await besideService(loadConfig(env));
  const core = await openCore(config, {
    logger: pino({ level: "warn" }, process.stderr),
    purpose,
    attach: true,
  });
  try {
    await work(core);
  } finally {
    await core.close();
  }
}

/** In emulator mode, the config pointed at the emulator a running service started. */
export async function besideService(config: Config): Promise<Config> {
  if (config.google.mode !== "emulator") return config;
  const file = join(config.dataDir, EMULATOR_CLIENT_FILE);
  const text = await readFile(file, "utf8").catch(() => undefined);
  const parsed = text === undefined ? undefined : parseClientSecret(text);
  if (parsed === undefined || !("client" in parsed) || parsed.client.tokenUri === undefined) {
    throw new StewardError("config_invalid", {
      message: `No Google client is configured and no running local emulator was found (${file}). Start the service first (npm start), or set GOOGLE_CLIENT_SECRET_FILE.`,
    });
  }
  return {
    ...config,
    google: {
      mode: "external-emulator",
      baseUrl: new URL(parsed.client.tokenUri).origin,
      client: parsed.client,
    },
  };
}
