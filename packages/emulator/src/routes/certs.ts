import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { SigningKeys } from "../keys.js";
import type { EmulatorSettings } from "../model.js";

/** Google's signing keys: the JWKS and the older map of PEM certificates, cacheable as Google's. */
export const certsRoutes: FastifyPluginAsync<{
  keys: SigningKeys;
  settings: Readonly<EmulatorSettings>;
  now: () => number;
}> = async (app, { keys, settings, now }) => {
  const cacheable = (reply: FastifyReply) => {
    const maxAge = settings.jwksMaxAgeSeconds;
    return reply
      .header("cache-control", `public, max-age=${maxAge}, must-revalidate, no-transform`)
      .header("expires", new Date(now() + maxAge * 1000).toUTCString())
      .type("application/json; charset=UTF-8");
  };
  app.get("/oauth2/v3/certs", (_request, reply) => cacheable(reply).send(keys.jwks()));
  app.get("/oauth2/v1/certs", (_request, reply) => cacheable(reply).send(keys.pemCertificates()));
};
