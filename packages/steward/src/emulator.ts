// `steward/emulator`: the local Google, as Steward exported it before it became a package of its
// own. It is `@steward/emulator` re-exported, an optional peer dependency: importing this entry
// needs it installed; `import "steward"` never loads it.
import * as emulator from "@steward/emulator";
import { asStewardError } from "./google/emulator-package.js";

export * from "@steward/emulator";

/**
 * `@steward/emulator`'s `startEmulator`, whose start-up errors are StewardErrors, as this entry
 * has always thrown them (`isStewardError(error, "port_in_use")` from `steward`).
 *
 * @throws StewardError `port_in_use`, `emulator_state_corrupt`.
 */
export async function startEmulator(
  ...options: Parameters<typeof emulator.startEmulator>
): ReturnType<typeof emulator.startEmulator> {
  try {
    return await emulator.startEmulator(...options);
  } catch (error) {
    throw asStewardError(emulator, error);
  }
}
