import type { FastifyPluginAsync } from "fastify";
import { sendApiError } from "../../google-errors.js";
import type { EmulatorClient } from "../../model.js";
import type { ClientInput, EmulatorState } from "../../state.js";
import { str, strList } from "./schemas.js";

/** `POST|GET /emulator/clients`: registers and lists OAuth clients (a test tool: shows secrets). */
export const clientsRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (
  app,
  { state },
) => {
  app.post<{ Body: ClientInput & { type: "web" | "installed" } }>(
    "/emulator/clients",
    {
      schema: {
        body: {
          type: "object",
          required: ["type"],
          additionalProperties: false,
          properties: {
            clientId: str,
            clientSecret: str,
            type: { enum: ["web", "installed"] },
            redirectUris: strList,
            javascriptOrigins: strList,
            publishingStatus: { enum: ["testing", "production"] },
          },
        },
      },
    },
    async (request, reply) => {
      if (request.body.clientId && state.clients.has(request.body.clientId)) {
        return sendApiError(reply, 409, "A client with this clientId exists.");
      }
      return reply.code(201).send(clientJson(state.registerClient(request.body)));
    },
  );
  app.get("/emulator/clients", async () => ({
    clients: [...state.clients.values()].map(clientJson),
  }));
};

function clientJson(client: EmulatorClient) {
  return { ...client, clientSecret: client.clientSecret ?? null };
}
