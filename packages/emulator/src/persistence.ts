import type { EmulatorContext } from "./context.js";
import type { AppDataSnapshot, BlobRefs } from "./drive-store.js";
import type { SigningKeysSnapshot } from "./keys.js";
import type { PhotosSnapshot } from "./photos-store.js";
import type { RiscStream } from "./risc-transmitter.js";
import type { StoredServiceAccount } from "./service-accounts.js";
import type { StateRecords } from "./state.js";

/**
 * Everything a persisted emulator saves, one part per module, each in the shape that module's
 * own `export` gives. What is left out is a test tool's or in flight: request and grant
 * counters, programmed faults, RISC deliveries under way, the reuse cache of refresh ID tokens.
 */
export interface EmulatorParts {
  /** The client `startEmulator` registered as its default, kept so its secret stays the same. */
  defaultClientId: string;
  state: StateRecords;
  keys: SigningKeysSnapshot;
  drive: AppDataSnapshot;
  photos: PhotosSnapshot;
  riscStream: RiscStream | null;
  serviceAccounts: StoredServiceAccount[];
}

/** The emulator's state as JSON, its binary contents stored through `blobs`. */
export function captureParts(
  ctx: EmulatorContext,
  defaultClientId: string,
  blobs: BlobRefs,
): EmulatorParts {
  return {
    defaultClientId,
    state: ctx.state.exportRecords(),
    keys: ctx.keys.export(),
    drive: ctx.drive.export(blobs),
    photos: ctx.photos.export(blobs),
    riscStream: ctx.risc.stream ?? null,
    serviceAccounts: ctx.serviceAccounts.export(),
  };
}

/**
 * Puts saved parts back into a context whose keys were already restored from `parts.keys`.
 *
 * @throws TypeError when a part is missing or malformed.
 */
export function restoreParts(ctx: EmulatorContext, parts: EmulatorParts, blobs: BlobRefs): void {
  for (const name of ["state", "drive", "photos"] as const) {
    if (typeof parts[name] !== "object" || parts[name] === null) {
      throw new TypeError(`${name} is missing`);
    }
  }
  if (typeof parts.defaultClientId !== "string") throw new TypeError("defaultClientId is missing");
  ctx.state.importRecords(parts.state);
  ctx.drive.import(parts.drive, blobs);
  ctx.photos.import(parts.photos, blobs);
  ctx.risc.stream = parts.riscStream ?? undefined;
  ctx.serviceAccounts.import(parts.serviceAccounts);
}
