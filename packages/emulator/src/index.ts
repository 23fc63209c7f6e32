// @steward/emulator: a local Google. Each operation lives in its own module; this file only
// re-exports what the package offers.
export {
  type ClientSecretFields,
  clientSecretJson,
  writeClientSecretFile,
} from "./client-secret.js";
export { EmulatorError, type EmulatorErrorCode, isEmulatorError } from "./errors.js";
export type { EmulatorClient, EmulatorSettings, EmulatorUser } from "./model.js";
export { type RunEmulatorOptions, runEmulator, stateLine } from "./run-emulator.js";
export {
  type Emulator,
  type EmulatorOptions,
  GOOGLE_ISSUER,
  startEmulator,
} from "./start-emulator.js";
export { EmulatorState } from "./state.js";
