import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { baseUrlOf } from "../base-url.js";
import { sendApiError } from "../google-errors.js";
import type { Grants, GrantView } from "../grants.js";
import type { EmulatorClient, EmulatorUser } from "../model.js";
import {
  accountSubject,
  PUSH_DELIVERY_METHOD,
  RISC_EVENT_TYPES,
  RISC_ISSUER,
  type RiscEventName,
  riscEventName,
  type TokenIdentifierAlg,
  tokenSubject,
} from "../risc-events.js";
import {
  type RiscEventToSend,
  type RiscTransmitter,
  receiverUrlProblem,
} from "../risc-transmitter.js";

interface EventRequest {
  sub?: string;
  type: string;
  receiverUrl?: string;
  reason?: "hijacking" | "bulk-account";
  state?: string;
  clientId?: string;
  refreshToken?: string;
  tokenIdentifierAlg?: TokenIdentifierAlg;
}

/** The user and grant records events are about, and the transmitter that pushes them. */
interface RiscParts {
  readonly clients: ReadonlyMap<string, EmulatorClient>;
  readonly users: ReadonlyMap<string, EmulatorUser>;
  readonly grants: Grants;
  readonly risc: RiscTransmitter;
}

const str = { type: "string", minLength: 1, maxLength: 2048 } as const;

/**
 * RISC, Google's side: the discovery document receivers read (`issuer`, `jwks_uri`), and the
 * control routes that make the emulator push a security event for a user, as Google does when
 * the user's account or grant changes.
 */
export const riscRoutes: FastifyPluginAsync<RiscParts> = async (app, parts) => {
  app.get("/.well-known/risc-configuration", (request, reply) => {
    const base = baseUrlOf(request);
    return reply.header("cache-control", "public, max-age=3600").send({
      issuer: RISC_ISSUER,
      jwks_uri: `${base}/oauth2/v3/certs`,
      delivery_methods_supported: [PUSH_DELIVERY_METHOD],
      add_subject_endpoint: `${base}/v1beta/subjects:add`,
      remove_subject_endpoint: `${base}/v1beta/subjects:remove`,
    });
  });

  app.post<{ Body: EventRequest }>(
    "/emulator/risc/events",
    {
      schema: {
        body: {
          type: "object",
          required: ["type"],
          additionalProperties: false,
          properties: {
            sub: str,
            type: str,
            receiverUrl: str,
            reason: { enum: ["hijacking", "bulk-account"] },
            state: str,
            clientId: str,
            refreshToken: str,
            tokenIdentifierAlg: { enum: ["prefix", "hash_base64_sha512_sha512"] },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const name = riscEventName(body.type);
      if (name === undefined) return sendApiError(reply, 400, "Unknown RISC event type.");
      const receiverUrl = receiverFor(parts, name, body.receiverUrl, reply);
      if (typeof receiverUrl !== "string") return receiverUrl;
      const events = eventsFor(parts, name, body, reply);
      if (!Array.isArray(events)) return events;
      return reply.code(202).send({ deliveries: parts.risc.send(events, receiverUrl) });
    },
  );

  app.get("/emulator/risc/deliveries", async () => ({ deliveries: parts.risc.deliveries.list() }));
  app.get<{ Params: { id: string } }>("/emulator/risc/deliveries/:id", async (request, reply) => {
    const delivery = parts.risc.deliveries.get(request.params.id);
    return delivery ?? sendApiError(reply, 404, "Unknown delivery.");
  });
  app.post<{ Params: { id: string } }>(
    "/emulator/risc/deliveries/:id/redeliver",
    async (request, reply) => {
      const delivery = parts.risc.deliveries.redeliver(request.params.id);
      return delivery
        ? reply.code(202).send(delivery)
        : sendApiError(reply, 404, "Unknown delivery.");
    },
  );
};

/** The given receiver, or the stream's when it is enabled and asked for this event type. */
function receiverFor(
  parts: RiscParts,
  name: RiscEventName,
  given: string | undefined,
  reply: FastifyReply,
): string | FastifyReply {
  if (given !== undefined) {
    const problem = receiverUrlProblem(given);
    if (problem === undefined) return given;
    return sendApiError(reply, 400, "receiverUrl must be an https URL, or http on loopback.");
  }
  const stream = parts.risc.stream;
  if (stream === undefined) {
    return sendApiError(reply, 409, "No receiverUrl given and no RISC stream is configured.");
  }
  if (!stream.enabled) {
    return sendApiError(
      reply,
      409,
      "The RISC stream is disabled: events are neither sent nor kept.",
    );
  }
  if (!stream.eventsRequested.includes(RISC_EVENT_TYPES[name])) {
    return sendApiError(reply, 409, "The RISC stream did not request this event type.");
  }
  return stream.receiverUrl;
}

/**
 * One event per audience: the clients the user granted (or the one named). A token revocation
 * is first done here, as at Google, which sends the event because the grant is already gone.
 */
function eventsFor(
  parts: RiscParts,
  name: RiscEventName,
  body: EventRequest,
  reply: FastifyReply,
): RiscEventToSend[] | FastifyReply {
  const eventType = RISC_EVENT_TYPES[name];
  const { clients, users } = parts;
  if (name === "verification") {
    const audiences = [...clients.keys()].filter(
      (clientId) => body.clientId === undefined || clientId === body.clientId,
    );
    if (audiences.length === 0) return sendApiError(reply, 404, "Unknown clientId.");
    const event = body.state === undefined ? {} : { state: body.state };
    return audiences.map((audience) => ({ eventType, audience, body: event }));
  }
  if (body.sub === undefined) return sendApiError(reply, 400, "sub is required for this event.");
  if (!users.has(body.sub)) return sendApiError(reply, 404, "Unknown user.");
  const grants = parts.grants
    .grantsOf(body.sub)
    .filter((grant) => body.clientId === undefined || grant.clientId === body.clientId);

  if (name === "token-revoked") {
    const tokens = revokedTokens(parts, body, grants);
    if (tokens.length === 0) {
      return sendApiError(reply, 409, "The user holds no such refresh token to revoke.");
    }
    const alg = body.tokenIdentifierAlg ?? "prefix";
    return tokens.map(({ token, clientId }) => {
      parts.grants.revokeRefreshToken(token);
      return { eventType, audience: clientId, body: { subject: tokenSubject(token, alg) } };
    });
  }

  if (grants.length === 0) {
    return sendApiError(reply, 409, "The user has granted no client; sign them in first.");
  }
  const event = {
    subject: accountSubject(body.sub),
    ...(body.reason === undefined ? {} : { reason: body.reason }),
  };
  return grants.map(({ clientId }) => {
    if (name === "tokens-revoked") parts.grants.revokeGrant(body.sub as string, clientId);
    return { eventType, audience: clientId, body: event };
  });
}

/** The token named, if it is the user's; else the newest live one of each grant. */
function revokedTokens(
  parts: RiscParts,
  body: EventRequest,
  grants: GrantView[],
): Array<{ token: string; clientId: string }> {
  if (body.refreshToken !== undefined) {
    const record = parts.grants.refreshTokenRecord(body.refreshToken);
    const mine =
      record !== undefined &&
      record.sub === body.sub &&
      (body.clientId === undefined || record.clientId === body.clientId);
    return mine ? [{ token: body.refreshToken, clientId: record.clientId }] : [];
  }
  return grants.flatMap((grant) => {
    const newest = grant.refreshTokens.filter((token) => !token.revoked).at(-1);
    return newest === undefined ? [] : [{ token: newest.token, clientId: grant.clientId }];
  });
}
