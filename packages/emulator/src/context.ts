import type { FastifyRequest } from "fastify";
import type { AppDataStore } from "./drive-store.js";
import type { SigningKeys } from "./keys.js";
import type { PhotosStore } from "./photos-store.js";
import type { RiscTransmitter } from "./risc-transmitter.js";
import type { ServiceAccounts } from "./service-accounts.js";
import type { EmulatorState } from "./state.js";

/** What every emulator route needs: the state, the signing keys and the issuer it claims. */
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

/** The emulator's base URL as this client reached it (127.0.0.1, localhost or [::1]). */
export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
