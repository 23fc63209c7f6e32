import type { FastifyPluginAsync } from "fastify";
import type { EmulatorState } from "../../state.js";
import { seconds } from "./schemas.js";

/** `GET|PUT /emulator/settings`: token lifetimes, limits and the publishing status. */
export const settingsRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (
  app,
  { state },
) => {
  app.get("/emulator/settings", async () => state.settings);
  app.put<{ Body: Partial<typeof state.settings> }>(
    "/emulator/settings",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            accessTokenTtlSeconds: seconds,
            codeTtlSeconds: seconds,
            idTokenTtlSeconds: seconds,
            jwksMaxAgeSeconds: { type: "integer", minimum: 0, maximum: 10 ** 8 },
            refreshTokenLimit: { type: "integer", minimum: 1, maximum: 10_000 },
            riscRetryBaseMs: { type: "integer", minimum: 1, maximum: 3_600_000 },
            riscMaxAttempts: { type: "integer", minimum: 1, maximum: 100 },
            dateSkewSeconds: { type: "integer", minimum: -(10 ** 8), maximum: 10 ** 8 },
            refreshTokenIdleSeconds: seconds,
            publishingStatus: { enum: ["testing", "production"] },
            testingRefreshTokenSeconds: seconds,
          },
        },
      },
    },
    async (request) => Object.assign(state.settings, request.body),
  );
};
