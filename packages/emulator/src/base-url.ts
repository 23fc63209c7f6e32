import type { FastifyRequest } from "fastify";

/** The emulator's base URL as this client reached it (127.0.0.1, localhost or [::1]). */
export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
