import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { StewardError } from "../../../errors.js";
import {
  receiveSecurityEvent,
  type SecurityEventDependencies,
} from "../../../risc/receive-security-event.js";
import { errorResponses } from "../../schemas.js";

/** Google sends `application/secevent+jwt` (RFC 8417); plain `application/jwt` is taken too. */
const MEDIA_TYPES = ["application/secevent+jwt", "application/jwt"];
/** A compact JWS: three base64url parts (the signature may be empty, then refused as unsigned). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const Accepted = Type.Object({
  duplicate: Type.Boolean({
    description: "True when this jti was received before: acknowledged, and nothing done again.",
  }),
});

/**
 * `POST /v1/risc`: Google's Cross-Account Protection (RISC) pushes security event tokens here.
 * Public (Google calls it; the token's signature is the authentication), rate limited per
 * address like the other public routes, bodies of 16 KiB at most. Steps: the media type, a
 * compact JWS, then verification and the event's effects, in one transaction with its jti
 * (src/risc). 202 once done (so an event Google counts as delivered is never lost), 400 with
 * `security_event_invalid` for a token that fails verification (nothing changes), 502 when
 * Google's keys cannot be had (Google delivers again later). Its own plugin: the parser of
 * the SET media types is for this route alone.
 */
export const riscRoute: FastifyPluginAsyncTypebox<SecurityEventDependencies> = async (
  app,
  deps,
) => {
  app.addContentTypeParser(MEDIA_TYPES, { parseAs: "string" }, (_request, body, done) =>
    done(null, body),
  );
  app.post(
    "/v1/risc",
    {
      config: { rateLimited: true },
      schema: {
        summary: "Receive a security event token from Google (Cross-Account Protection)",
        description:
          "Verified against the RISC discovery document's issuer and keys; acted on once per jti. See docs/security.md.",
        tags: ["public"],
        body: {
          content: Object.fromEntries(
            MEDIA_TYPES.map((type) => [
              type,
              { schema: Type.String({ description: "The SET, a compact RS256 JWT." }) },
            ]),
          ),
        },
        response: { 202: Accepted, ...errorResponses(400, 413, 415, 429, 500, 502, 503) },
      },
      // After the rate limit (onRequest), before the body is read: no other parser (JSON,
      // form) may take it.
      preParsing: (request, _reply, payload, done) => {
        const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== undefined && MEDIA_TYPES.includes(type)) return done(null, payload);
        done(
          new StewardError("unsupported_media_type", {
            message: "Send the security event token as application/secevent+jwt.",
          }),
        );
      },
    },
    async (request, reply) => {
      const token = typeof request.body === "string" ? request.body.trim() : "";
      if (!COMPACT_JWS.test(token)) {
        throw new StewardError("security_event_invalid", {
          detail: "the body is not a compact JWS",
        });
      }
      const { duplicate } = await receiveSecurityEvent({ ...deps, logger: request.log }, token);
      return reply.code(202).send({ duplicate });
    },
  );
};
