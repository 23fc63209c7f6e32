import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { oauthParams } from "../form-params.js";
import { sendOAuthError } from "../google-errors.js";
import type { Grants } from "../grants.js";

/**
 * POST /revoke with `token` in the query or the form body. Revoking an access or refresh token
 * ends the whole grant. Unknown or dead token: 400 `invalid_token`. GET is not served (404).
 */
export const revokeRoutes: FastifyPluginAsync<{ grants: Grants }> = async (app, { grants }) => {
  const revoke = (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = oauthParams(request.query, request.body);
    if (!parsed.ok) {
      return sendOAuthError(
        reply,
        400,
        "invalid_request",
        `Parameter ${parsed.duplicated} is duplicated.`,
      );
    }
    const token = parsed.params.token;
    if (!token)
      return sendOAuthError(reply, 400, "invalid_request", "Missing required parameter: token");
    if (!grants.revokeToken(token)) {
      return sendOAuthError(reply, 400, "invalid_token", "Token expired or revoked");
    }
    return reply.code(200).type("application/json; charset=utf-8").send("");
  };
  app.post("/revoke", revoke);
  app.post("/o/oauth2/revoke", revoke);
};
