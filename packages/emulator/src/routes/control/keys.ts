import type { FastifyPluginAsync } from "fastify";
import type { SigningKeys } from "../../keys.js";

/** `POST /emulator/keys/rotate`: a new signing key, as Google rotates its own. */
export const keysRotateRoute: FastifyPluginAsync<{ keys: SigningKeys }> = async (app, { keys }) => {
  app.post("/emulator/keys/rotate", async () => keys.rotate());
};
