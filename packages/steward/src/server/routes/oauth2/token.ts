import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { type IdTokenRules, verifyIdToken } from "../../../identity/verify-id-token.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { askedScopes, handOutToken, type TokenHandoutDependencies } from "../../token-handout.js";
import { clientCredentials } from "./client-credentials.js";
import { asOAuthError, OAuthError, OAuthErrorBody, registerOAuthErrors } from "./oauth-errors.js";

export interface OAuth2TokenRouteOptions extends TokenHandoutDependencies {
  apiAuth: ApiAuth;
  idTokenRules: IdTokenRules;
}

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/**
 * A token handed out here has at least a minute left when the client reads it: ten seconds more
 * are asked of the token manager for the audit write and the way back.
 */
const MIN_VALIDITY_MS = 70_000;

const field = (description: string) => Type.Optional(Type.String({ maxLength: 8192, description }));

// Unknown parameters are ignored (RFC 6749 section 3.2); a repeated one is refused (its value
// is an array, not a string).
const TokenRequest = Type.Object(
  {
    grant_type: Type.String({
      maxLength: 256,
      description: `\`refresh_token\`, or \`${TOKEN_EXCHANGE_GRANT}\` (RFC 8693).`,
    }),
    refresh_token: field("refresh_token grant: the user's Google `sub`."),
    client_id: field("`steward`, unless sent with HTTP Basic."),
    client_secret: field("An API key with `tokens:read`, unless sent with HTTP Basic."),
    scope: field("Space-separated scopes the caller needs; `invalid_scope` when not granted."),
    subject_token: field("Token exchange: the user's Google ID token."),
    subject_token_type: field(`Token exchange: \`${ID_TOKEN_TYPE}\`.`),
    requested_token_type: field(`Token exchange: \`${ACCESS_TOKEN_TYPE}\`, when sent.`),
    actor_token: field("Not supported: `invalid_request`."),
  },
  { additionalProperties: true },
);
type TokenRequest = Static<typeof TokenRequest>;

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds left; at least 60." }),
  scope: Type.String({ description: "Every scope of the user's grant, space-separated." }),
  issued_token_type: Type.Optional(
    Type.Literal(ACCESS_TOKEN_TYPE, { description: "Token exchange answers only (RFC 8693)." }),
  ),
});

/**
 * `POST /oauth2/token`: Steward as the token endpoint of Google's own client libraries. A backend
 * sets its library's token URI here, the user's `sub` as the refresh token and an API key as the
 * client secret, and gets the user's Google access token in Google's shape, from the cache or
 * the one refresh per user. Refusals are OAuth's `{error, error_description}`, so the libraries
 * raise their usual errors. Authenticated like the internal API (not rate limited, HTTPS off
 * loopback); every handout is audited under the API key. Its own plugin: its refusals are OAuth's,
 * not the envelope, and no answer of it may be cached.
 */
export const oauth2TokenRoute: FastifyPluginAsync<OAuth2TokenRouteOptions> = async (
  app,
  options,
) => {
  registerOAuthErrors(app);
  app.addHook("onRequest", noStore);

  app.post<{ Body: TokenRequest }>(
    "/oauth2/token",
    {
      schema: {
        summary:
          "Google's token endpoint, for Google's client libraries (API key as client secret)",
        description:
          "Form-encoded. Client credentials: `client_id=steward` and `client_secret=<API key with tokens:read>`, or the same with HTTP Basic. Errors are OAuth's `{error, error_description}`, not Steward's envelope. See docs/backends.md.",
        tags: ["internal"],
        consumes: ["application/x-www-form-urlencoded"],
        body: TokenRequest,
        response: {
          200: TokenResponse,
          400: OAuthErrorBody,
          401: OAuthErrorBody,
          500: OAuthErrorBody,
          503: OAuthErrorBody,
        },
      },
      preValidation: requireForm,
    },
    async (request) => {
      const { body } = request;
      // The client first: an unknown client learns nothing about users.
      const credentials = clientCredentials(request, body);
      const caller = await options.apiAuth
        .requireSecret(request, credentials.secret, "tokens:read")
        .catch((error: unknown) => {
          const refusal = asOAuthError(error);
          refusal.basicChallenge = credentials.scheme === "basic";
          throw refusal;
        });
      const { sub, exchange } = await subjectOf(body, options.idTokenRules);
      const token = await handOutToken(options, caller, sub, {
        scopes: askedScopes(body.scope),
        minValidityMs: MIN_VALIDITY_MS,
        audit: { route: "/oauth2/token", grantType: body.grant_type },
      });
      const now = (options.now ?? Date.now)();
      return {
        access_token: token.token,
        token_type: "Bearer" as const,
        expires_in: Math.floor((token.expiresAt.getTime() - now) / 1000),
        scope: token.scopes.join(" "),
        ...(exchange ? { issued_token_type: ACCESS_TOKEN_TYPE } : {}),
      };
    },
  );
};

/** Whose token the grant asks for: the refresh token is the `sub`; an ID token names it. */
async function subjectOf(
  body: TokenRequest,
  rules: IdTokenRules,
): Promise<{ sub: string; exchange: boolean }> {
  if (body.grant_type === "refresh_token") {
    if (!body.refresh_token) throw new OAuthError("invalid_request", "refresh_token is missing.");
    return { sub: body.refresh_token, exchange: false };
  }
  if (body.grant_type !== TOKEN_EXCHANGE_GRANT) {
    throw new OAuthError(
      "unsupported_grant_type",
      `Steward supports refresh_token and ${TOKEN_EXCHANGE_GRANT}.`,
    );
  }
  if (!body.subject_token) throw new OAuthError("invalid_request", "subject_token is missing.");
  if (body.subject_token_type !== ID_TOKEN_TYPE) {
    throw new OAuthError("invalid_request", `subject_token_type must be ${ID_TOKEN_TYPE}.`);
  }
  if (body.requested_token_type !== undefined && body.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new OAuthError("invalid_request", `requested_token_type must be ${ACCESS_TOKEN_TYPE}.`);
  }
  if (body.actor_token !== undefined) {
    throw new OAuthError("invalid_request", "Delegation (actor_token) is not supported.");
  }
  // As GET /v1/me verifies it: Google's signature, issuer, one of our audiences, not expired.
  const identity = await verifyIdToken(body.subject_token, rules);
  return { sub: identity.sub, exchange: true };
}

/** OAuth's parameters come form-encoded (RFC 6749 appendix B); a JSON body is refused. */
function requireForm(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  const type = request.headers["content-type"] ?? "";
  done(
    /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)
      ? undefined
      : new OAuthError(
          "invalid_request",
          "Send the parameters as application/x-www-form-urlencoded.",
        ),
  );
}

/** Token answers, refusals included, must not be cached (RFC 6749 section 5.1). */
function noStore(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header("cache-control", "no-store");
  reply.header("pragma", "no-cache");
  done();
}
