import { createHash } from "node:crypto";
import { type JWTPayload, type JWTVerifyGetKey, errors as joseErrors } from "jose";
import { StewardError } from "../errors.js";
import { verifyRs256Jwt } from "./verify-rs256-jwt.js";

/** The profile Steward keeps, keyed by `sub` (never by email). */
export interface GoogleIdentity {
  sub: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  givenName: string | undefined;
  familyName: string | undefined;
  picture: string | undefined;
  locale: string | undefined;
  /** Hosted Workspace domain, when the user belongs to one. */
  hd: string | undefined;
  /** The client the token was issued to, and the one that presented the sign-in. */
  audience: string;
  authorizedParty: string | undefined;
  expiresAt: Date;
}

/** Clock difference tolerated for an ID token's `exp` and `iat` by default, as Google's libraries. */
export const ID_TOKEN_CLOCK_SKEW_SECONDS = 300;

export interface IdTokenRules {
  getKey: JWTVerifyGetKey;
  /** Accepted `iss` values. */
  issuers: readonly string[];
  /** Accepted `aud` values: the server client ID and any extra audiences (iOS, Android). */
  audiences: readonly string[];
  /** Accepted `azp` values, when the token has one: every configured client ID. */
  authorizedParties: readonly string[];
  /** Tolerated clock difference for `exp` and `iat`. Default 300 s, as Google's libraries. */
  clockSkewSeconds?: number;
  /** Tokens claiming to live longer than this are refused. Default 86 400 s. */
  maxLifetimeSeconds?: number;
  now?: () => number;
}

/**
 * Verifies a Google ID token: RS256 signature against Google's keys, `iss`, `aud`, `azp` when
 * present, `exp`/`iat` with clock skew, and `at_hash` when the access token it came with is given.
 *
 * @throws StewardError `id_token_invalid` (401) when any rule fails; the detail names the rule.
 * @throws StewardError `upstream_unavailable` (502) when Google's keys cannot be fetched.
 * @example
 *   const identity = await verifyIdToken(idToken, rules, { accessToken });
 */
export async function verifyIdToken(
  idToken: string,
  rules: IdTokenRules,
  options: { accessToken?: string } = {},
): Promise<GoogleIdentity> {
  const skew = rules.clockSkewSeconds ?? ID_TOKEN_CLOCK_SKEW_SECONDS;
  const nowMs = (rules.now ?? Date.now)();
  let payload: JWTPayload;
  try {
    payload = await verifyRs256Jwt(idToken, rules.getKey, {
      issuer: [...rules.issuers],
      audience: [...rules.audiences],
      clockTolerance: skew,
      currentDate: new Date(nowMs),
      requiredClaims: ["sub", "iat", "exp"],
    });
  } catch (error) {
    throw translate(error);
  }
  const nowSeconds = nowMs / 1000;
  const iat = payload.iat as number;
  const exp = payload.exp as number;
  if (iat > nowSeconds + skew) invalid("iat is in the future");
  if (exp - nowSeconds > (rules.maxLifetimeSeconds ?? 86_400))
    invalid("exp is too far in the future");
  if (payload.azp !== undefined && !rules.authorizedParties.includes(String(payload.azp))) {
    invalid("azp is not a configured client");
  }
  if (options.accessToken !== undefined && payload.at_hash !== undefined) {
    if (payload.at_hash !== accessTokenHash(options.accessToken)) invalid("at_hash does not match");
  }
  return identityOf(payload);
}

function identityOf(payload: JWTPayload): GoogleIdentity {
  const text = (name: string) =>
    typeof payload[name] === "string" ? (payload[name] as string) : undefined;
  const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
  return {
    sub: payload.sub as string,
    email: text("email"),
    // Google sends a boolean; some older tokens carry the string "true".
    emailVerified: payload.email_verified === true || payload.email_verified === "true",
    name: text("name"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    picture: text("picture"),
    locale: text("locale"),
    hd: text("hd"),
    audience: aud as string,
    authorizedParty: text("azp"),
    expiresAt: new Date((payload.exp as number) * 1000),
  };
}

/** OpenID Connect `at_hash` for RS256: base64url of the left half of SHA-256(access token). */
function accessTokenHash(accessToken: string): string {
  return createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url");
}

function invalid(detail: string): never {
  throw new StewardError("id_token_invalid", { detail });
}

function translate(error: unknown): StewardError {
  if (error instanceof StewardError) return error;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new StewardError("upstream_unavailable", {
      detail: "fetching Google's keys failed",
      cause: error,
    });
  }
  if (error instanceof joseErrors.JOSEError) {
    // jose's codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ...) name the rule.
    return new StewardError("id_token_invalid", {
      detail: `${error.code}: ${error.message}`,
      cause: error,
    });
  }
  if (error instanceof TypeError || (error as { name?: string }).name === "AbortError") {
    // fetch failures (connection refused, reset) surface as TypeError.
    return new StewardError("upstream_unavailable", {
      detail: "fetching Google's keys failed",
      cause: error,
    });
  }
  return new StewardError("id_token_invalid", { detail: "unreadable token", cause: error });
}
