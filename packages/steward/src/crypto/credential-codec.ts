import { isStewardError, StewardError } from "../errors.js";
import type { VaultLogger } from "../shared/index.js";
import type { Credential, SealedCredential, SealedToken } from "../store/index.js";
import { openSecretBytes, sealSecret } from "./envelope.js";
import type { Keyring } from "./keyring.js";

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

/**
 * Opens a token as the store holds it.
 *
 * @throws StewardError as {@link openField}.
 */
export function openToken(
  keyring: Keyring,
  logger: VaultLogger,
  sub: string,
  field: SealedField,
  token: SealedToken,
): string {
  return openField(keyring, logger, sub, field, token.sealed, token.kid);
}

/** A credential as the store read it, with its tokens opened. */
export function openCredential(
  keyring: Keyring,
  logger: VaultLogger,
  credential: SealedCredential,
): Credential {
  const { refreshToken, accessToken, ...info } = credential;
  return {
    ...info,
    refreshToken:
      refreshToken === null
        ? null
        : openToken(keyring, logger, credential.sub, "refresh_token", refreshToken),
    accessToken:
      accessToken === null
        ? null
        : openToken(keyring, logger, credential.sub, "access_token", accessToken),
  };
}
