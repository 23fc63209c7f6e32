import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StewardError } from "../errors.js";
import { generateKeyLine, Keyring } from "./keyring.js";
import { silentLogger, type VaultLogger } from "./logger.js";

export interface KeyringSourceOptions {
  /** The value of `STEWARD_KEYS`, if set. */
  readonly value: string | undefined;
  /** `STEWARD_DATA_DIR`, where emulator mode keeps its generated key. */
  readonly dataDir: string;
  /**
   * What to do when `STEWARD_KEYS` is unset: `fail` (talking to Google: there is no plaintext
   * path), `generate` (emulator mode: use the key generated into the data dir, creating it on
   * first use, with a warning), or `use-generated` (CLI commands: use it only if it exists).
   */
  readonly whenUnset: "fail" | "generate" | "use-generated";
  readonly logger?: VaultLogger | undefined;
}

/** The generated key's file inside the data directory (emulator mode only). */
export const GENERATED_KEY_FILE = "generated-key";

/**
 * The keyring from `STEWARD_KEYS`, or in emulator mode from a key generated into the data dir.
 *
 * @throws StewardError `keys_invalid` when `STEWARD_KEYS` is malformed (naming the variable and
 *   the entry), or unset where it is required.
 * @example
 *   const keyring = await loadKeyring({ value: process.env.STEWARD_KEYS, dataDir: ".steward", whenUnset: "fail" });
 */
export async function loadKeyring(options: KeyringSourceOptions): Promise<Keyring> {
  if (options.value !== undefined && options.value.trim() !== "") {
    return Keyring.parse(options.value, "STEWARD_KEYS");
  }
  const logger = options.logger ?? silentLogger;
  const file = join(options.dataDir, GENERATED_KEY_FILE);
  if (options.whenUnset !== "fail") {
    const stored = await readFile(file, "utf8").catch(() => undefined);
    if (stored !== undefined) {
      warnGenerated(logger, file);
      return Keyring.parse(stored.trim(), file);
    }
  }
  if (options.whenUnset !== "generate") {
    throw new StewardError("keys_invalid", {
      message:
        "STEWARD_KEYS is not set. Generate a key with `steward keys generate` and set " +
        "STEWARD_KEYS=<that line>; secrets are never stored unsealed.",
    });
  }
  const line = generateKeyLine(`generated-${new Date().toISOString().slice(0, 10)}`);
  const staging = `${file}.${process.pid}`;
  await writeFile(staging, `${line}\n`, { mode: 0o600 });
  await rename(staging, file);
  warnGenerated(logger, file);
  return Keyring.parse(line, file);
}

function warnGenerated(logger: VaultLogger, file: string): void {
  logger.warn(
    { file },
    "STEWARD_KEYS is unset: sealing with a key generated into the data directory. Fine for the " +
      "emulator; for real users set STEWARD_KEYS (see `steward keys generate`).",
  );
}
