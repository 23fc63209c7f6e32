import type { FastifyPluginAsync } from "fastify";
import type { AppClient } from "steward";
import { DEMO_SCOPES, FEATURES } from "../features.js";
import { DemoConfig } from "../schemas.js";

export interface ConfigRouteOptions {
  /** The OAuth client the page signs in with. */
  client: AppClient;
}

/** `GET /demo/api/config`: what the page needs to open the consent popup. */
export const configRoute: FastifyPluginAsync<ConfigRouteOptions> = async (app, { client }) => {
  app.get(
    "/demo/api/config",
    { schema: { tags: ["demo"], response: { 200: DemoConfig } } },
    async () => ({
      clientId: client.clientId,
      authorizationUrl: client.authorizationUrl,
      scopes: [...DEMO_SCOPES],
      origins: [...client.javascriptOrigins],
      features: FEATURES.map(({ id, title, scope }) => ({ id, title, scope })),
    }),
  );
};
