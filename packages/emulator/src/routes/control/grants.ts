import type { FastifyPluginAsync } from "fastify";
import { sendApiError } from "../../google-errors.js";
import type { EmulatorState } from "../../state.js";

/** `GET /emulator/users/:sub/grants` and `POST /emulator/users/:sub/revoke`: a user's consents. */
export const grantsRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (
  app,
  { state },
) => {
  app.get<{ Params: { sub: string } }>("/emulator/users/:sub/grants", async (request, reply) => {
    if (!state.users.has(request.params.sub)) return sendApiError(reply, 404, "Unknown user.");
    return { grants: state.grantsOf(request.params.sub) };
  });
  app.post<{ Params: { sub: string }; Body: { clientId?: string } | undefined }>(
    "/emulator/users/:sub/revoke",
    async (request, reply) => {
      if (!state.users.has(request.params.sub)) return sendApiError(reply, 404, "Unknown user.");
      const clientId = (request.body as { clientId?: unknown } | undefined)?.clientId;
      const revoked = state.revokeGrant(
        request.params.sub,
        typeof clientId === "string" ? clientId : undefined,
      );
      return { revoked };
    },
  );
};
