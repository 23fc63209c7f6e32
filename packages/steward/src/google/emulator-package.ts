import { StewardError } from "../errors.js";
import type { LocalGoogle, LocalGoogleOptions } from "./local-google.js";

/** The package that holds the local Google; a peer dependency, needed in emulator mode only. */
export const EMULATOR_PACKAGE = "@steward/emulator";

/** What `@steward/emulator` exports. */
export type EmulatorPackage = typeof import("@steward/emulator");

/**
 * Loads `@steward/emulator`, on first use only: Google mode never loads it, so a production
 * install need not carry a fake Google.
 *
 * @throws StewardError `emulator_not_installed` when the package cannot be found.
 */
export async function loadEmulatorPackage(): Promise<EmulatorPackage> {
  try {
    return await import("@steward/emulator");
  } catch (error) {
    if (isMissing(error)) {
      throw new StewardError("emulator_not_installed", {
        message: `Emulator mode needs the ${EMULATOR_PACKAGE} package, which is not installed: run \`npm install ${EMULATOR_PACKAGE}\`, or configure a Google client (GOOGLE_CLIENT_SECRET_FILE, STEWARD_GOOGLE=google).`,
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Starts `@steward/emulator` in this process: the `StartLocalGoogle` the service and the library
 * hand to `openCore` in emulator mode. The emulator's own start-up errors
 * become the StewardErrors of the same code.
 *
 * @throws StewardError `emulator_not_installed`, `port_in_use`, `emulator_state_corrupt`.
 */
export async function startEmulatorPackage(options: LocalGoogleOptions): Promise<LocalGoogle> {
  const emulator = await loadEmulatorPackage();
  try {
    return await emulator.startEmulator(options);
  } catch (error) {
    throw asStewardError(emulator, error);
  }
}

/**
 * The emulator's own start-up error (`port_in_use`, `emulator_state_corrupt`) as the
 * StewardError of the same code; any other error as it is.
 */
export function asStewardError(
  emulator: Pick<EmulatorPackage, "isEmulatorError">,
  error: unknown,
): unknown {
  return emulator.isEmulatorError(error)
    ? new StewardError(error.code, { message: error.message, cause: error })
    : error;
}

/** Node's "cannot find the package" error, for this package itself (not one it imports). */
function isMissing(error: unknown): boolean {
  const { code, message } = error as NodeJS.ErrnoException;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    message.includes(`'${EMULATOR_PACKAGE}'`)
  );
}
