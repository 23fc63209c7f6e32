import type { FastifyBaseLogger } from "fastify";
import { isStewardError, StewardError } from "../errors.js";
import {
  completeSignIn,
  type SignInDependencies,
  type SignInResult,
} from "../signin/complete-sign-in.js";
import type { User } from "../store/store.js";
import type { Metrics } from "./plugins/metrics.js";
import { publicUser } from "./schemas.js";

/** Google's codes are at most 256 bytes; twice that leaves room and still refuses junk. */
const MAX_CODE_LENGTH = 512;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** A code (a JSON or form body, or the raw code) turned into a signed-in user, as answered. */
export type CodeExchange = (
  body: unknown,
) => Promise<Omit<SignInResult, "user"> & { user: ReturnType<typeof publicUser> }>;

export interface CodeExchangeOptions {
  signIn: SignInDependencies;
  /** redirect_uri values a code may be exchanged with, besides "" and "postmessage". */
  allowedRedirectUris: readonly string[];
  metrics: Metrics;
  log: FastifyBaseLogger;
}

/**
 * The exchange behind `POST /v1/auth/google/code`, made once so that a page of this service
 * taking codes itself (the demo) exchanges them the same way, counted in the same metrics:
 * a well-formed code and redirect URI, then the exchange, the ID token check and the sealed save
 * (src/signin). Nothing is stored unless every step succeeds.
 *
 * @throws StewardError `invalid_request` for a malformed code or a redirect URI not allowed;
 *   whatever {@link completeSignIn} throws.
 */
export function codeExchange(options: CodeExchangeOptions): CodeExchange {
  const redirectUris = new Set(["", "postmessage", ...options.allowedRedirectUris]);
  return async (body) => {
    const { code, redirectUri } = codeRequest(body);
    if (!redirectUris.has(redirectUri)) {
      throw new StewardError("invalid_request", {
        message:
          'redirectUri must be "" (iOS, Android), "postmessage" (web popup) or a configured redirect URI.',
      });
    }
    const timer = options.metrics.codeExchangeSeconds.startTimer();
    let outcome = "ok";
    try {
      const result = await completeSignIn(options.signIn, { code, redirectUri });
      warnNearRefreshTokenLimit(options.log, result.user);
      return { ...result, user: publicUser(result.user) };
    } catch (error) {
      outcome = isStewardError(error) ? error.code : "internal_error";
      throw error;
    } finally {
      options.metrics.codeExchanges.inc({ outcome });
      timer({ outcome });
    }
  };
}

/** The code from a JSON or form body, or a raw text/plain or octet-stream body. */
function codeRequest(body: unknown): { code: string; redirectUri: string } {
  let code: unknown;
  let redirectUri: unknown = "";
  if (typeof body === "string") code = body.trim();
  else if (Buffer.isBuffer(body)) code = body.toString("latin1").trim();
  else if (body !== null && typeof body === "object") {
    ({ code, redirectUri = "" } = body as { code?: unknown; redirectUri?: unknown });
  }
  if (
    typeof code !== "string" ||
    code.length === 0 ||
    code.length > MAX_CODE_LENGTH ||
    !PRINTABLE_ASCII.test(code)
  ) {
    throw new StewardError("invalid_request", {
      message: `code must be 1 to ${MAX_CODE_LENGTH} printable ASCII characters.`,
    });
  }
  if (typeof redirectUri !== "string") {
    throw new StewardError("invalid_request", { message: "redirectUri must be a string." });
  }
  return { code, redirectUri };
}

/** Past this many sign-ins bringing a refresh token, a user nears Google's limit of 100. */
export const REFRESH_TOKEN_SIGN_IN_WARNING = 50;

/**
 * Google keeps the newest 100 refresh tokens per account and client and silently ends the
 * oldest; Steward keeps only the newest, so it goes on working, but an app asking consent at
 * every sign-in (`prompt=consent`) kills the tokens other copies of itself may hold.
 */
function warnNearRefreshTokenLimit(log: FastifyBaseLogger, user: User): void {
  if (user.refreshTokenSignIns <= REFRESH_TOKEN_SIGN_IN_WARNING) return;
  log.warn(
    { sub: user.sub, refreshTokenSignIns: user.refreshTokenSignIns },
    "this user's sign-ins brought over 50 refresh tokens: Google keeps the newest 100 per account and client; ask for consent (prompt=consent) only when no refresh token is stored",
  );
}
