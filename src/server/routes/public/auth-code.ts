import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { isStewardError, StewardError } from "../../../errors.js";
import {
  completeSignIn,
  type SignInDependencies,
  type SignInResult,
} from "../../../signin/complete-sign-in.js";
import type { User } from "../../../store/index.js";
import { requireAllowedOrigin, requireHttps, requireRequestedWith } from "../../plugins/guards.js";
import type { Metrics } from "../../plugins/metrics.js";
import { errorResponses, PublicUser, publicUser } from "../../schemas.js";

/** Google's codes are at most 256 bytes; twice that leaves room and still refuses junk. */
const MAX_CODE_LENGTH = 512;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

const CodeJson = Type.Object(
  {
    code: Type.String({ description: "The one-time serverAuthCode (or web popup code)." }),
    redirectUri: Type.Optional(
      Type.String({
        description: '"" (default) for iOS/Android codes, "postmessage" for web popup codes.',
      }),
    ),
  },
  { additionalProperties: false },
);

const SignInResponse = Type.Object({
  user: PublicUser,
  grantedScopes: Type.Array(Type.String(), {
    description:
      "What the user's stored grant holds (with offline access), else what this code was granted.",
  }),
  missingScopes: Type.Array(Type.String(), {
    description: "Scopes of STEWARD_REQUIRED_SCOPES that grantedScopes lacks.",
  }),
  offlineAccess: Type.Boolean({
    description:
      "False when Google sent no refresh token and none is stored: ask the user for consent again.",
  }),
});

/** A code (a JSON or form body, or the raw code) turned into a signed-in user, as answered. */
export type CodeExchange = (
  body: unknown,
) => Promise<Omit<SignInResult, "user"> & { user: ReturnType<typeof publicUser> }>;

export interface AuthCodeRouteOptions {
  signIn: SignInDependencies;
  allowedOrigins: readonly string[];
  /** redirect_uri values a code may be exchanged with, besides "" and "postmessage". */
  allowedRedirectUris: readonly string[];
  metrics: Metrics;
}

/**
 * `POST /v1/auth/google/code`: the app hands over the one-time code. Steps: HTTPS off loopback,
 * the X-Requested-With header, the Origin, a well-formed code, then the exchange, the ID token
 * check and the sealed save (src/signin). Nothing is stored unless every step succeeds.
 *
 * @returns the route's exchange, for a page of this service that takes codes itself (the demo),
 *   behind its own guards and rate limit.
 */
export function authCodeRoute(app: FastifyInstance, options: AuthCodeRouteOptions): CodeExchange {
  const redirectUris = new Set(["", "postmessage", ...options.allowedRedirectUris]);
  const exchange: CodeExchange = async (body) => {
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
      warnNearRefreshTokenLimit(app, result.user);
      return { ...result, user: publicUser(result.user) };
    } catch (error) {
      outcome = isStewardError(error) ? error.code : "internal_error";
      throw error;
    } finally {
      options.metrics.codeExchanges.inc({ outcome });
      timer({ outcome });
    }
  };
  app.post(
    "/v1/auth/google/code",
    {
      config: { rateLimited: true },
      schema: {
        summary: "Exchange a Google sign-in code for a stored, verified user",
        tags: ["public"],
        headers: Type.Object({ "x-requested-with": Type.Optional(Type.String()) }),
        body: {
          content: {
            "application/json": { schema: CodeJson },
            "application/x-www-form-urlencoded": { schema: CodeJson },
            "text/plain": { schema: Type.String() },
          },
        },
        response: {
          200: SignInResponse,
          ...errorResponses(400, 401, 403, 413, 415, 429, 500, 502, 503),
        },
      },
      preHandler: async (request) => {
        requireHttps(request);
        requireRequestedWith(request);
        requireAllowedOrigin(request, options.allowedOrigins);
      },
    },
    (request) => exchange(request.body),
  );
  return exchange;
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
function warnNearRefreshTokenLimit(app: FastifyInstance, user: User): void {
  if (user.refreshTokenSignIns <= REFRESH_TOKEN_SIGN_IN_WARNING) return;
  app.log.warn(
    { sub: user.sub, refreshTokenSignIns: user.refreshTokenSignIns },
    "this user's sign-ins brought over 50 refresh tokens: Google keeps the newest 100 per account and client; ask for consent (prompt=consent) only when no refresh token is stored",
  );
}
