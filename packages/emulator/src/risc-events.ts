import { createHash } from "node:crypto";

/** `iss` of Google's SETs and of its RISC discovery document: with the trailing slash. */
export const RISC_ISSUER = "https://accounts.google.com/";

export const PUSH_DELIVERY_METHOD = "https://schemas.openid.net/secevent/risc/delivery-method/push";

const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const OAUTH = "https://schemas.openid.net/secevent/oauth/event-type/";

/**
 * The event types Google sends, by the short name the control API also accepts. The two token
 * revocations are in the oauth namespace, the rest in the risc one.
 */
export const RISC_EVENT_TYPES = Object.freeze({
  "sessions-revoked": `${RISC}sessions-revoked`,
  "tokens-revoked": `${OAUTH}tokens-revoked`,
  "token-revoked": `${OAUTH}token-revoked`,
  "account-disabled": `${RISC}account-disabled`,
  "account-enabled": `${RISC}account-enabled`,
  "account-credential-change-required": `${RISC}account-credential-change-required`,
  verification: `${RISC}verification`,
} as const);

export type RiscEventName = keyof typeof RISC_EVENT_TYPES;

const NAME_BY_URI = new Map<string, RiscEventName>(
  Object.entries(RISC_EVENT_TYPES).map(([name, uri]) => [uri, name as RiscEventName]),
);

/** The short name of a full event-type URI or of a short name; undefined when unknown. */
export function riscEventName(type: string): RiscEventName | undefined {
  if (Object.hasOwn(RISC_EVENT_TYPES, type)) return type as RiscEventName;
  return NAME_BY_URI.get(type);
}

export type TokenIdentifierAlg = "prefix" | "hash_base64_sha512_sha512";

/**
 * How a token-revoked event names the refresh token: its first 16 characters, or base64 (padded)
 * of SHA-512(SHA-512(utf8 token)) as public implementations compute Google's double hash.
 */
export function tokenIdentifier(refreshToken: string, alg: TokenIdentifierAlg): string {
  if (alg === "prefix") return refreshToken.slice(0, 16);
  const inner = createHash("sha512").update(refreshToken, "utf8").digest();
  return createHash("sha512").update(inner).digest("base64");
}

/** The subject of an account or session event: Google's `iss-sub` form. */
export function accountSubject(sub: string) {
  return { subject_type: "iss-sub", iss: RISC_ISSUER, sub };
}

/** The subject of a token-revoked event: one refresh token, by prefix or hash. */
export function tokenSubject(refreshToken: string, alg: TokenIdentifierAlg) {
  return {
    subject_type: "oauth_token",
    token_type: "refresh_token",
    token_identifier_alg: alg,
    token: tokenIdentifier(refreshToken, alg),
  };
}
