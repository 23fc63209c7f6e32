import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { StewardError } from "../../errors.js";

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * An `onRequest` hook letting through only `Authorization: Bearer <token>`; compared by digest
 * in constant time, so neither the token nor its length leaks by timing.
 *
 * @throws StewardError `unauthenticated` for a missing or wrong token.
 */
export function requireMetricsToken(token: string) {
  const expected = digest(token);
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const presented = BEARER.exec(request.headers.authorization ?? "")?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      done();
      return;
    }
    reply.header("www-authenticate", 'Bearer realm="metrics"');
    done(new StewardError("unauthenticated", { message: "A valid metrics token is required." }));
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
