import type { FastifyPluginAsync } from "fastify";
import { sendApiError } from "../../google-errors.js";
import { type EmulatorState, normalizeScopes, type UserInput } from "../../state.js";
import { scopeList, str } from "./schemas.js";

/**
 * `POST /emulator/users::bulk`: many users at once, each having consented to `scopes` with
 * offline access, as a sign-in leaves them: a live refresh token and access token each (for
 * `steward seed`).
 */
export const usersBulkRoute: FastifyPluginAsync<{ state: EmulatorState }> = async (
  app,
  { state },
) => {
  app.post<{ Body: { clientId: string; scopes: string | string[]; users: UserInput[] } }>(
    "/emulator/users::bulk",
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        body: {
          type: "object",
          required: ["clientId", "scopes", "users"],
          additionalProperties: false,
          properties: {
            clientId: str,
            scopes: scopeList,
            users: {
              type: "array",
              maxItems: 10_000,
              items: {
                type: "object",
                required: ["email"],
                additionalProperties: false,
                properties: { email: { type: "string", maxLength: 320 }, name: str },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { clientId, users } = request.body;
      if (!state.clients.has(clientId)) return sendApiError(reply, 404, "Unknown clientId.");
      const scopes = normalizeScopes(request.body.scopes);
      const made = users.map((input) => {
        const user = state.createUser(input);
        const refreshToken = state.issueRefreshToken(user.sub, clientId, scopes);
        const { accessToken, expiresIn } = state.issueAccessToken(
          user.sub,
          clientId,
          scopes,
          refreshToken,
        );
        return { ...user, refreshToken, accessToken, expiresIn };
      });
      return reply.code(201).send({ scopes, users: made });
    },
  );
};
