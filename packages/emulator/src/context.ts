import type { AppDataStore } from "./drive-store.js";
import type { SigningKeys } from "./keys.js";
import type { PhotosStore } from "./photos-store.js";
import type { RiscTransmitter } from "./risc-transmitter.js";
import type { ServiceAccounts } from "./service-accounts.js";
import type { EmulatorState } from "./state.js";

/**
 * The emulator's parts, as `startEmulator` wires them: `buildEmulatorApp` hands each route plugin
 * only the parts it uses, and persistence saves and restores them all.
 */
export interface EmulatorContext {
  readonly state: EmulatorState;
  readonly keys: SigningKeys;
  /** `iss` of ID tokens; Google's own unless the emulator was started with another. */
  readonly issuer: string;
  /** Google's side of RISC: the project's stream and the SETs pushed to receivers. */
  readonly risc: RiscTransmitter;
  /** The project's service accounts, whose keys sign RISC management calls. */
  readonly serviceAccounts: ServiceAccounts;
  /** Drive's application data folders. */
  readonly drive: AppDataStore;
  /** The Photos Library's app-created albums and media items. */
  readonly photos: PhotosStore;
}
