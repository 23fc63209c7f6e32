import { randomBytes } from "node:crypto";
import { type FileHandle, link, open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import { generateKeyLine, Keyring } from "./keyring.js";

export interface KeyringSourceOptions {
  /** The value of `STEWARD_KEYS`, if set. */
  readonly value: string | undefined;
  /** `STEWARD_DATA_DIR`, where emulator mode keeps its generated key. */
  readonly dataDir: string;
  /**
   * What to do when `STEWARD_KEYS` is unset: `fail` (talking to Google: there is no plaintext
   * path), `generate` (emulator mode: use the key generated into the data dir, creating it on
   * first use, with a warning), or `use-generated` (CLI commands: use it only if it exists,
   * silently: the service warned).
   */
  readonly whenUnset: "fail" | "generate" | "use-generated";
  readonly logger?: VaultLogger | undefined;
}

/** The generated key's file inside the data directory (emulator mode only). */
export const GENERATED_KEY_FILE = "generated-key";

/**
 * What is wrong with `STEWARD_KEYS` as written, or undefined when it parses or is unset (then
 * {@link loadKeyring} decides). Lets the configuration report it beside every other bad setting;
 * the message names entries by position, never a kid or a key.
 *
 * @example
 *   keysProblem("k1:short"); // "STEWARD_KEYS entry 1: the key is not base64 of 32 bytes."
 */
export function keysProblem(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  try {
    Keyring.parse(value, "STEWARD_KEYS");
    return undefined;
  } catch (error) {
    if (error instanceof StewardError && error.code === "keys_invalid") return error.message;
    throw error;
  }
}

/**
 * The keyring from `STEWARD_KEYS`, or in emulator mode from a key generated into the data dir.
 *
 * The generated key seals every stored credential and has no other copy, so an existing key file
 * is never replaced: only a missing one (ENOENT) is created, and if another process creates it
 * first, its key is the one used.
 *
 * @throws StewardError `keys_invalid` when `STEWARD_KEYS` is malformed (naming the variable and
 *   the entry), or unset where it is required, or when the generated key file exists but cannot
 *   be read, or cannot be created (naming the file, never its content).
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
    const stored = await readGeneratedKey(file);
    if (stored !== undefined) {
      // A CLI command beside the service uses the key the service already warned about at its
      // start; saying it again on every command is noise.
      if (options.whenUnset === "generate") warnGenerated(logger, file);
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
  if (!(await createOnce(file, `${line}\n`))) {
    // Another process started at the same time and created it first: use its key.
    const winner = await readGeneratedKey(file);
    if (winner === undefined) {
      throw keyFileError(
        `${file} exists but does not open (a dangling link?); it was left as it is`,
      );
    }
    warnGenerated(logger, file);
    return Keyring.parse(winner.trim(), file);
  }
  warnGenerated(logger, file);
  return Keyring.parse(line, file);
}

/** The key file's content, or undefined when it does not exist; any other failure throws. */
async function readGeneratedKey(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw keyFileError(`${file} cannot be read (${errorCode(error)}); it was left as it is`, error);
  }
}

/**
 * Writes `content` to `file` (mode 0600) unless `file` exists; false when it does. The content
 * goes to a staging file first, then is linked into place, so a concurrent reader sees the whole
 * key or no file, and `link` fails where `rename` would replace.
 */
async function createOnce(file: string, content: string): Promise<boolean> {
  const staging = `${file}.${process.pid}-${randomBytes(4).toString("hex")}`;
  let handle: FileHandle;
  try {
    handle = await open(staging, "wx", 0o600);
  } catch (error) {
    throw keyFileError(`${file} cannot be created (${errorCode(error)})`, error);
  }
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(staging, file);
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw keyFileError(`${file} cannot be created (${errorCode(error)})`, error);
  } finally {
    // Only the staging name goes; the key stays under `file`. A failure here leaves a private
    // (0600) copy of the key beside it, which is harmless, so it must not hide the outcome.
    await unlink(staging).catch(() => undefined);
  }
}

function warnGenerated(logger: VaultLogger, file: string): void {
  logger.warn(
    { file },
    "STEWARD_KEYS is unset: sealing with a key generated into the data directory. Fine for the " +
      "emulator; for real users set STEWARD_KEYS (see `steward keys generate`).",
  );
}

/** `problem` names the file and what failed, never the file's content. */
function keyFileError(problem: string, cause?: unknown): StewardError {
  return new StewardError("keys_invalid", {
    message: `STEWARD_KEYS is unset and the generated key file ${problem}. Fix it, or set STEWARD_KEYS.`,
    cause,
  });
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
