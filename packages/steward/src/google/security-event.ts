import { StewardError } from "../errors.js";

/**
 * Google's Cross-Account Protection (RISC) shapes, parsed into camelCase types: the discovery
 * document and the claims of a security event token (SET). Signatures are checked elsewhere
 * (src/risc/security-event-verifier.ts); these functions only read verified JSON.
 */

const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const OAUTH = "https://schemas.openid.net/secevent/oauth/event-type/";

/**
 * The event types Google sends, by the short names Steward uses: the one list of them, which the
 * receiver knows and `steward risc register` requests. Revocations are `oauth`'s.
 */
export const SECURITY_EVENT_TYPES = Object.freeze({
  "sessions-revoked": `${RISC}sessions-revoked`,
  "tokens-revoked": `${OAUTH}tokens-revoked`,
  "token-revoked": `${OAUTH}token-revoked`,
  "account-disabled": `${RISC}account-disabled`,
  "account-enabled": `${RISC}account-enabled`,
  "account-credential-change-required": `${RISC}account-credential-change-required`,
  verification: `${RISC}verification`,
});

export type SecurityEventKind = keyof typeof SECURITY_EVENT_TYPES;

const KIND_OF_TYPE: ReadonlyMap<string, SecurityEventKind> = new Map(
  Object.entries(SECURITY_EVENT_TYPES).map(([kind, uri]) => [uri, kind as SecurityEventKind]),
);

/** How a token event names the refresh token: its first 16 characters, or a double SHA-512. */
export type TokenIdentifierAlg = "prefix" | "hash_base64_sha512_sha512";

/** Whom or what an event is about. */
export type SecuritySubject =
  /** `iss-sub` or `id_token_claims`: the ID token's `sub`. */
  | { readonly kind: "user"; readonly sub: string }
  /** `oauth_token`: one refresh token, by an identifier (never the token itself). */
  | {
      readonly kind: "refresh_token";
      readonly alg: TokenIdentifierAlg;
      readonly identifier: string;
    }
  /** No subject, or one of a kind Steward does not act on. */
  | { readonly kind: "none" };

export interface SecurityEvent {
  /** The event-type URI as sent. */
  readonly type: string;
  /** Its short name; undefined for a type Steward does not know. */
  readonly kind: SecurityEventKind | undefined;
  readonly subject: SecuritySubject;
  /** account-disabled's `reason` (`hijacking`, `bulk-account`), when given. */
  readonly reason: string | undefined;
  /** verification's `state`, when given. */
  readonly state: string | undefined;
}

/** A verified SET's claims that matter once its signature, `iss` and `aud` are checked. */
export interface SecurityEventToken {
  readonly jti: string;
  readonly issuedAt: Date | undefined;
  readonly events: readonly SecurityEvent[];
}

/** The RISC discovery document (`/.well-known/risc-configuration`), as far as Steward reads it. */
export interface RiscConfiguration {
  readonly issuer: string;
  readonly jwksUri: string;
}

const MAX_ATTRIBUTE_LENGTH = 256;

/**
 * Reads `issuer` and `jwks_uri` from the discovery document.
 *
 * @throws StewardError `upstream_rejected` when either is missing or not a string (the
 *   jwks_uri also must be an http(s) URL).
 */
export function parseRiscConfiguration(json: unknown): RiscConfiguration {
  const doc = isObject(json) ? json : {};
  const issuer = doc.issuer;
  const jwksUri = doc.jwks_uri;
  if (typeof issuer !== "string" || issuer === "" || typeof jwksUri !== "string") {
    throw new StewardError("upstream_rejected", {
      detail: "the RISC discovery document lacks issuer or jwks_uri",
    });
  }
  const protocol = URL.canParse(jwksUri) ? new URL(jwksUri).protocol : "";
  if (protocol !== "https:" && protocol !== "http:") {
    throw new StewardError("upstream_rejected", {
      detail: "the RISC discovery document's jwks_uri is not an http(s) URL",
    });
  }
  return { issuer, jwksUri };
}

/**
 * Reads a verified SET's `jti`, `iat` and `events`.
 *
 * @throws StewardError `security_event_invalid` when `jti` or `events` is missing or mistyped;
 *   the detail names the claim.
 */
export function parseSecurityEventToken(claims: Record<string, unknown>): SecurityEventToken {
  const { jti, iat, events } = claims;
  if (!isShortText(jti) || jti === "") throw invalid("jti is missing or not a short string");
  if (iat !== undefined && typeof iat !== "number") throw invalid("iat is not a number");
  if (!isObject(events) || Object.keys(events).length === 0) {
    throw invalid("events is missing or empty");
  }
  return {
    jti,
    issuedAt: typeof iat === "number" ? new Date(iat * 1000) : undefined,
    events: Object.entries(events).map(([type, body]) => parseEvent(type, body)),
  };
}

function parseEvent(type: string, body: unknown): SecurityEvent {
  if (!isShortText(type)) throw invalid("an event type is not a short string");
  if (!isObject(body)) throw invalid("an event's body is not an object");
  return {
    type,
    kind: KIND_OF_TYPE.get(type),
    subject: parseSubject(body.subject),
    reason: shortText(body.reason, "reason"),
    state: shortText(body.state, "state"),
  };
}

function parseSubject(subject: unknown): SecuritySubject {
  if (subject === undefined) return { kind: "none" };
  if (!isObject(subject)) throw invalid("an event's subject is not an object");
  switch (subject.subject_type) {
    case "iss-sub":
    case "id_token_claims": {
      const sub = subject.sub;
      if (!isShortText(sub) || sub === "" || sub.length > 255) {
        throw invalid("the subject's sub is missing or malformed");
      }
      return { kind: "user", sub };
    }
    case "oauth_token": {
      // Google sends refresh tokens only; any other token type is not ours to match.
      if (subject.token_type !== "refresh_token") return { kind: "none" };
      const alg = subject.token_identifier_alg;
      const identifier = subject.token;
      if (alg !== "prefix" && alg !== "hash_base64_sha512_sha512") {
        throw invalid(
          "the subject's token_identifier_alg is not prefix or hash_base64_sha512_sha512",
        );
      }
      if (!isShortText(identifier) || identifier === "") {
        throw invalid("the subject's token is missing or malformed");
      }
      return { kind: "refresh_token", alg, identifier };
    }
    default:
      return { kind: "none" };
  }
}

function shortText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isShortText(value)) throw invalid(`an event's ${name} is not a short string`);
  return value;
}

/** At most 256 characters, and no NUL: PostgreSQL's text and jsonb hold none. */
function isShortText(value: unknown): value is string {
  return (
    typeof value === "string" && value.length <= MAX_ATTRIBUTE_LENGTH && !value.includes("\u0000")
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(detail: string): StewardError {
  return new StewardError("security_event_invalid", { detail });
}
