import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { CodeExchange } from "../../code-exchange.js";
import { requireAllowedOrigin, requireHttps, requireRequestedWith } from "../../plugins/guards.js";
import { errorResponses, PublicUser } from "../../schemas.js";

// The demo names the exchange's type from here; it is made in code-exchange.ts.

export interface AuthCodeRouteOptions {
  /** The one exchange of the service (see code-exchange.ts). */
  exchange: CodeExchange;
  allowedOrigins: readonly string[];
}

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

/**
 * `POST /v1/auth/google/code`: the app hands over the one-time code. Steps: HTTPS off loopback,
 * the X-Requested-With header, the Origin, then the exchange (a well-formed code, the exchange,
 * the ID token check and the sealed save). Nothing is stored unless every step succeeds.
 */
export const authCodeRoute: FastifyPluginAsyncTypebox<AuthCodeRouteOptions> = async (
  app,
  options,
) => {
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
    (request) => options.exchange(request.body),
  );
};
