import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { baseUrlOf } from "../base-url.js";
import { sendApiError } from "../google-errors.js";
import type { EmulatorClient } from "../model.js";
import { PUSH_DELIVERY_METHOD, RISC_EVENT_TYPES } from "../risc-events.js";
import { type RiscStream, type RiscTransmitter, receiverUrlProblem } from "../risc-transmitter.js";
import type { ServiceAccounts } from "../service-accounts.js";

const KNOWN_EVENT_TYPES = new Set<string>(Object.values(RISC_EVENT_TYPES));

/**
 * Google's RISC management API (`https://risc.googleapis.com/v1beta/...`), authenticated as
 * Google does with a JWT signed by a service-account key, plus the control route that issues
 * such keys. The emulator has one project, so one stream.
 */
export const riscManagementRoutes: FastifyPluginAsync<{
  clients: ReadonlyMap<string, EmulatorClient>;
  now: () => number;
  risc: RiscTransmitter;
  serviceAccounts: ServiceAccounts;
}> = async (app, { clients, now, risc, serviceAccounts }) => {
  app.post<{ Body: { name?: string; riscAdmin?: boolean } | undefined }>(
    "/emulator/service-accounts",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            name: { type: "string", pattern: "^[a-z][a-z0-9-]{4,28}[a-z0-9]$" },
            riscAdmin: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(serviceAccounts.issue(baseUrlOf(request), request.body ?? {})),
  );

  const authorized = async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = await serviceAccounts.verifyManagementJwt(request.headers.authorization, now());
    if (caller.ok) return undefined;
    if (caller.status === 403) {
      return sendApiError(reply, 403, "The caller does not have permission");
    }
    return sendApiError(
      reply.header("www-authenticate", 'Bearer realm="https://accounts.google.com/"'),
      401,
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    );
  };
  const noStream = (reply: FastifyReply) =>
    sendApiError(reply, 404, "Project has no RISC configuration.");

  // `::` is a literal `:` to Fastify's router.
  app.post("/v1beta/stream::update", { preHandler: authorized }, async (request, reply) => {
    const parsed = parseStreamUpdate(request.body);
    if ("status" in parsed) return sendApiError(reply, parsed.status, parsed.message);
    risc.stream = { ...parsed, enabled: risc.stream?.enabled ?? true };
    return streamJson(risc.stream);
  });

  app.get("/v1beta/stream", { preHandler: authorized }, async (_request, reply) =>
    risc.stream ? streamJson(risc.stream) : noStream(reply),
  );

  app.get("/v1beta/stream/status", { preHandler: authorized }, async (_request, reply) =>
    risc.stream ? statusJson(risc.stream) : noStream(reply),
  );

  app.post("/v1beta/stream/status::update", { preHandler: authorized }, async (request, reply) => {
    const stream = risc.stream;
    if (stream === undefined) return noStream(reply);
    const status = field(request.body, "status");
    if (status === undefined) {
      return sendApiError(reply, 400, "Stream status must contain status field.");
    }
    if (status !== "enabled" && status !== "disabled") {
      return sendApiError(
        reply,
        403,
        `Stream status ${String(status).slice(0, 40)} is not supported.`,
      );
    }
    stream.enabled = status === "enabled";
    return statusJson(stream);
  });

  app.post("/v1beta/stream::verify", { preHandler: authorized }, async (request, reply) => {
    const stream = risc.stream;
    if (stream === undefined) return noStream(reply);
    const echoed = field(request.body, "state");
    if (echoed !== undefined && (typeof echoed !== "string" || echoed.length > 2048)) {
      return sendApiError(reply, 400, "state must be a string.");
    }
    // As at Google: only to an enabled stream that subscribed to verification events.
    const type = RISC_EVENT_TYPES.verification;
    if (stream.enabled && stream.eventsRequested.includes(type)) {
      const body = echoed === undefined ? {} : { state: echoed };
      risc.send(
        [...clients.keys()].map((audience) => ({ eventType: type, audience, body })),
        stream.receiverUrl,
      );
    }
    return {};
  });
};

type StreamUpdate = Omit<RiscStream, "enabled"> | { status: 400 | 403; message: string };

/** Google's checks on a stream configuration, with its messages. */
function parseStreamUpdate(body: unknown): StreamUpdate {
  const missing = (name: string) => ({
    status: 400 as const,
    message: `Stream configuration must contain ${name} field.`,
  });
  const delivery = field(body, "delivery");
  if (delivery === undefined) return missing("delivery");
  const method = field(delivery, "delivery_method");
  if (method === undefined) return missing("delivery_method");
  if (method !== PUSH_DELIVERY_METHOD) {
    return { status: 400, message: "Only the push delivery method is supported." };
  }
  const url = field(delivery, "url");
  if (url === undefined) return missing("url");
  const problem = typeof url === "string" ? receiverUrlProblem(url) : "invalid";
  if (problem === "not_https") {
    return { status: 403, message: "The delivery endpoint must use HTTPS." };
  }
  if (problem !== undefined)
    return { status: 400, message: "The delivery url is not a valid URL." };
  const events = field(body, "events_requested");
  if (events === undefined) return missing("events_requested");
  if (!Array.isArray(events) || !events.every((type) => KNOWN_EVENT_TYPES.has(type))) {
    return { status: 400, message: "events_requested must list supported event types." };
  }
  return { receiverUrl: url as string, eventsRequested: [...new Set(events as string[])] };
}

function field(value: unknown, name: string): unknown {
  if (typeof value !== "object" || value === null || !Object.hasOwn(value, name)) return undefined;
  return (value as Record<string, unknown>)[name];
}

function streamJson(stream: RiscStream) {
  return {
    delivery: { delivery_method: PUSH_DELIVERY_METHOD, url: stream.receiverUrl },
    events_requested: stream.eventsRequested,
    events_delivered: stream.eventsRequested,
  };
}

function statusJson(stream: RiscStream) {
  return { status: stream.enabled ? "enabled" : "disabled" };
}
