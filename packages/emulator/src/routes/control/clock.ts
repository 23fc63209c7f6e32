import type { FastifyPluginAsync } from "fastify";
import type { EmulatorState } from "../../state.js";

/** `POST|GET /emulator/clock`: the clock only moves ahead, so expiry tests jump months at once. */
export const clockRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  app.post<{ Body: { advanceSeconds: number } }>(
    "/emulator/clock",
    {
      schema: {
        body: {
          type: "object",
          required: ["advanceSeconds"],
          additionalProperties: false,
          properties: { advanceSeconds: { type: "integer", minimum: 0, maximum: 10 ** 9 } },
        },
      },
    },
    async (request) => {
      const nowMs = state.advanceClock(request.body.advanceSeconds);
      return {
        now: new Date(nowMs).toISOString(),
        clockOffsetSeconds: state.settings.clockOffsetSeconds,
      };
    },
  );
  app.get("/emulator/clock", async () => ({
    now: new Date(state.now()).toISOString(),
    clockOffsetSeconds: state.settings.clockOffsetSeconds,
  }));
};
