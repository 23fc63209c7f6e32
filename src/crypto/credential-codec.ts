import type { Selectable } from "kysely";
import { isStewardError, StewardError } from "../errors.js";
import type { VaultLogger } from "../shared/index.js";
import type { CredentialsTable } from "../store/schema.js";
import type { Credential, CredentialInfo } from "../store/store.js";
import { openSecretBytes, sealSecret } from "./envelope.js";
import type { Keyring } from "./keyring.js";

export type CredentialRow = Selectable<CredentialsTable>;

/** The two sealed fields of a credential row. */
export type SealedField = "refresh_token" | "access_token";

/**
 * What a sealed field is bound to: the field's name and the owner's `sub`, so an envelope
 * moved to another row or column does not open.
 */
export function credentialContext(sub: string, field: SealedField): string {
  return `steward:${field}\u0000${sub}`;
}

/** Seals one field of `sub`'s credential with the active key. */
export function sealField(
  keyring: Keyring,
  sub: string,
  field: SealedField,
  plaintext: string,
): { sealed: Buffer; kid: string } {
  return {
    sealed: sealSecret(keyring, plaintext, credentialContext(sub, field)),
    kid: keyring.activeKid,
  };
}

/**
 * Opens one sealed field, checking that the envelope names the kid its row says.
 *
 * @throws StewardError `credential_corrupt` or `key_missing`, logged by sub, field and kid.
 */
export function openField(
  keyring: Keyring,
  logger: VaultLogger,
  sub: string,
  field: SealedField,
  sealed: Buffer,
  kid: string | null,
): string {
  return openFieldBytes(keyring, logger, sub, field, sealed, kid).toString("utf8");
}

/**
 * Opens a field sealed with any key of the ring and seals it again with the active key.
 *
 * @throws StewardError as {@link openField}.
 */
export function resealField(
  keyring: Keyring,
  logger: VaultLogger,
  sub: string,
  field: SealedField,
  sealed: Buffer,
  kid: string | null,
): { sealed: Buffer; kid: string } {
  const plaintext = openFieldBytes(keyring, logger, sub, field, sealed, kid);
  return {
    sealed: sealSecret(keyring, plaintext, credentialContext(sub, field)),
    kid: keyring.activeKid,
  };
}

function openFieldBytes(
  keyring: Keyring,
  logger: VaultLogger,
  sub: string,
  field: SealedField,
  sealed: Buffer,
  kid: string | null,
): Buffer {
  try {
    if (kid === null) throw new StewardError("credential_corrupt", { detail: "no kid recorded" });
    return openSecretBytes(keyring, sealed, credentialContext(sub, field), kid);
  } catch (error) {
    if (!isStewardError(error)) throw error;
    logger.error(
      { code: error.code, sub, field, kid, detail: error.detail },
      "a stored credential could not be opened",
    );
    throw new StewardError(error.code, {
      message:
        error.code === "key_missing"
          ? `The credential of this user is sealed with key '${kid}', which STEWARD_KEYS does not hold.`
          : undefined,
      detail: `${field} of sub ${sub} (kid ${kid}): ${error.detail ?? error.message}`,
      cause: error,
    });
  }
}

/** A row's public part: everything but the tokens. */
export function toCredentialInfo(row: CredentialRow): CredentialInfo {
  return {
    sub: row.sub,
    status: row.status,
    grantedScopes: row.granted_scopes,
    hasRefreshToken: row.refresh_token !== null,
    kid: row.refresh_kid,
    accessTokenExpiresAt: row.access_token_expires_at,
    revokedReason: row.revoked_reason,
    lastRefreshAt: row.last_refresh_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A row with its tokens opened. */
export function openCredential(
  keyring: Keyring,
  logger: VaultLogger,
  row: CredentialRow,
): Credential {
  return {
    ...toCredentialInfo(row),
    refreshToken:
      row.refresh_token === null
        ? null
        : openField(keyring, logger, row.sub, "refresh_token", row.refresh_token, row.refresh_kid),
    accessToken:
      row.access_token === null
        ? null
        : openField(keyring, logger, row.sub, "access_token", row.access_token, row.access_kid),
  };
}
