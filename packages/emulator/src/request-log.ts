import type { FastifyRequest } from "fastify";

/**
 * Pino serializers for the emulator's request lines: Fastify's own `req` with every query value
 * replaced by "[redacted]" (tokeninfo takes `access_token`, the consent page `state`, in the
 * query). The service has the same rule (its src/server/logger.ts); the emulator is a package of
 * its own that imports nothing of Steward, so it keeps its own copy.
 */
export const EMULATOR_REQUEST_SERIALIZERS = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: typeof request.url === "string" ? withoutQueryValues(request.url) : undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
};

const QUERY_KEY = /^[A-Za-z0-9_.[\]-]{1,64}$/;

function withoutQueryValues(url: string): string {
  const queryAt = url.indexOf("?");
  if (queryAt === -1) return url;
  const query = url
    .slice(queryAt + 1)
    .split("&")
    .map((part) => {
      const equals = part.indexOf("=");
      const key = equals === -1 ? undefined : part.slice(0, equals);
      return key !== undefined && QUERY_KEY.test(key) ? `${key}=[redacted]` : "[redacted]";
    });
  return `${url.slice(0, queryAt)}?${query.join("&")}`;
}
