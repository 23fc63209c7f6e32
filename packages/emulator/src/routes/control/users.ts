import type { FastifyPluginAsync } from "fastify";
import type { EmulatorState, UserInput } from "../../state.js";
import { str } from "./schemas.js";

/** `POST|GET /emulator/users`: creates and lists Google accounts. */
export const usersRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  app.post<{ Body: UserInput }>(
    "/emulator/users",
    {
      schema: {
        body: {
          type: "object",
          required: ["email"],
          additionalProperties: false,
          properties: {
            email: { type: "string", format: "email", maxLength: 320 },
            name: str,
            givenName: str,
            familyName: str,
            picture: str,
            locale: str,
            hd: str,
            emailVerified: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) => reply.code(201).send(state.createUser(request.body)),
  );
  app.get("/emulator/users", async () => ({ users: [...state.users.values()] }));
};
