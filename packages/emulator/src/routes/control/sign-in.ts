import type { FastifyPluginAsync } from "fastify";
import { sendApiError } from "../../google-errors.js";
import { type IdTokenSigner, signIdToken } from "../../id-token.js";
import { normalizeScopes } from "../../state.js";
import { scopeList, str } from "./schemas.js";

/**
 * `POST /emulator/sign-in`: what a native sign-in SDK hands the app (a server auth code and an
 * ID token) without a browser.
 */
export const signInRoute: FastifyPluginAsync<IdTokenSigner> = async (app, ctx) => {
  const { state } = ctx;
  app.post<{
    Body: {
      email?: string;
      sub?: string;
      clientId: string;
      serverClientId?: string;
      scopes?: string | string[];
      grantedScopes?: string | string[];
      prompt?: string;
      nonce?: string;
    };
  }>(
    "/emulator/sign-in",
    {
      schema: {
        body: {
          type: "object",
          required: ["clientId"],
          additionalProperties: false,
          properties: {
            email: { type: "string", format: "email", maxLength: 320 },
            sub: str,
            clientId: str,
            serverClientId: str,
            scopes: scopeList,
            grantedScopes: scopeList,
            prompt: str,
            nonce: str,
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const app = state.clients.get(body.clientId);
      const server = state.clients.get(body.serverClientId ?? body.clientId);
      if (app === undefined || server === undefined) {
        return sendApiError(reply, 404, "Unknown clientId or serverClientId; register it first.");
      }
      const user = body.sub
        ? state.users.get(body.sub)
        : body.email
          ? (state.findUser(body.email) ?? state.createUser({ email: body.email }))
          : undefined;
      if (user === undefined)
        return sendApiError(reply, 404, "Give the email or the sub of a known user.");
      // The sign-in SDKs always ask for the OpenID scopes.
      const requested = ["openid", "email", "profile", ...normalizeScopes(body.scopes ?? [])];
      const { code, scopes } = state.mintCode({
        clientId: server.clientId,
        authorizedParty: app.clientId,
        sub: user.sub,
        requestedScopes: requested,
        grantedScopes:
          body.grantedScopes === undefined ? undefined : normalizeScopes(body.grantedScopes),
        // SDK codes carry no redirect: "" (and "postmessage", as Google's backend samples send).
        redirectUris: ["", "postmessage"],
        offline: true,
        prompt: body.prompt,
        nonce: body.nonce,
      });
      const idToken = signIdToken(ctx, {
        user,
        audience: server.clientId,
        authorizedParty: app.clientId,
        scopes,
        nonce: body.nonce,
      });
      return { serverAuthCode: code, idToken, grantedScopes: scopes, sub: user.sub };
    },
  );
};
