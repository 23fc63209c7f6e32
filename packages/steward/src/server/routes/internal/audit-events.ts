import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { VaultStore } from "../../../store/store.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, RecentQuery, recentPage } from "../../schemas.js";

export interface AuditEventsRouteOptions {
  apiAuth: ApiAuth;
  store: Pick<VaultStore, "listAuditEvents">;
}

const AuditEventView = Type.Object({
  id: Type.String(),
  at: Type.String({ format: "date-time" }),
  type: Type.String(),
  sub: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()], {
    description: "The email of the user the event is about, as stored now; null when none.",
  }),
  data: Type.Record(Type.String(), Type.Unknown()),
});

/** `GET /v1/audit-events`: the audit trail, newest first, for operators (admin). */
export const auditEventsRoute: FastifyPluginAsyncTypebox<AuditEventsRouteOptions> = async (
  app,
  options,
) => {
  app.get(
    "/v1/audit-events",
    {
      config: { personal: true },
      schema: {
        summary: "Recent audit events, newest first, optionally for one user (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        querystring: RecentQuery,
        response: {
          200: Type.Object({ events: Type.Array(AuditEventView) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      await options.apiAuth.require(request, "admin");
      const events = await options.store.listAuditEvents(recentPage(request.query));
      // Events never hold a secret (see AuditEventInput), so their data is shown as stored.
      return {
        events: events.map((event) => ({
          id: event.id,
          at: event.at.toISOString(),
          type: event.type,
          sub: event.sub,
          actor: event.actor,
          email: event.email ?? null,
          data: { ...event.data },
        })),
      };
    },
  );
};
