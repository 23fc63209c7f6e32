import type { FastifyPluginAsync } from "fastify";
import type { Faults } from "../../faults.js";

/** `POST|DELETE /emulator/faults`: scripted failures (status, body, latency) for any path. */
export const faultsRoutes: FastifyPluginAsync<{ faults: Faults }> = async (app, { faults }) => {
  app.post<{
    Body: {
      path: string;
      status?: number;
      body?: unknown;
      headers?: Record<string, string>;
      latencyMs?: number;
      times?: number;
      reset?: boolean;
      share?: number;
    };
  }>(
    "/emulator/faults",
    {
      schema: {
        body: {
          type: "object",
          required: ["path"],
          additionalProperties: false,
          properties: {
            path: { type: "string", pattern: "^/", maxLength: 2048 },
            status: { type: "integer", minimum: 100, maximum: 599 },
            body: {},
            latencyMs: { type: "integer", minimum: 0, maximum: 600_000 },
            times: { type: "integer", minimum: 1, maximum: 1_000_000 },
            reset: { type: "boolean" },
            share: { type: "number", exclusiveMinimum: 0, maximum: 1 },
            headers: {
              type: "object",
              additionalProperties: { type: "string", maxLength: 2048 },
              maxProperties: 20,
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { times = 1, ...fault } = request.body;
      faults.add({ ...fault, times });
      return reply.code(201).send({ faults: faults.list() });
    },
  );
  app.delete("/emulator/faults", async () => {
    faults.clear();
    return { faults: [] };
  });
};
