import type { SealedSeedBatch, SeedUser } from "../store/index.js";
import { sealField } from "./credential-codec.js";
import type { Keyring } from "./keyring.js";

/**
 * Seals both tokens of each user with the active key, as the vault seals a sign-in's
 * (credential-codec.ts), above the store, which holds only ciphertext. CPU-bound: a caller overlaps it with the previous batch's insert.
 */
export function sealSeedUsers(
  keyring: Keyring,
  users: readonly SeedUser[],
  grantedScopes: readonly string[],
): SealedSeedBatch {
  return {
    users,
    kid: keyring.activeKid,
    refresh: users.map(
      (user) => sealField(keyring, user.sub, "refresh_token", user.refreshToken).sealed,
    ),
    access: users.map(
      (user) => sealField(keyring, user.sub, "access_token", user.accessToken).sealed,
    ),
    grantedScopes,
  };
}
