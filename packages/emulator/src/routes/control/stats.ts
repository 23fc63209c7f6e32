import type { FastifyPluginAsync } from "fastify";
import type { EmulatorState } from "../../state.js";

/** `GET|DELETE /emulator/stats`: requests counted per path, and their reset. */
export const statsRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  app.get("/emulator/stats", async () => state.stats());
  app.delete("/emulator/stats", async () => {
    state.resetStats();
    return state.stats();
  });
};
