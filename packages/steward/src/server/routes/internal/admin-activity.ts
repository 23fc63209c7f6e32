import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { HourOfActivity } from "../../../store/activity.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses } from "../../schemas.js";

export interface AdminActivityRouteOptions {
  apiAuth: ApiAuth;
  /** The last `hours` hours, oldest first (see vault/activity.ts). */
  activity(hours: number): Promise<HourOfActivity[]>;
}

const HOURS_OF: Record<"day" | "week", number> = { day: 24, week: 24 * 7 };
const Count = Type.Integer({ minimum: 0 });
const HourView = Type.Object({
  hour: Type.String({ format: "date-time", description: "The hour's start (UTC)." }),
  signIns: Count,
  refreshes: Count,
  refreshFailures: Count,
  revocations: Count,
});

/** `GET /v1/admin/activity`: what the admin page charts, per hour (admin). */
export const adminActivityRoute: FastifyPluginAsyncTypebox<AdminActivityRouteOptions> = async (
  app,
  { apiAuth, activity },
) => {
  app.get(
    "/v1/admin/activity",
    {
      config: { personal: true },
      schema: {
        summary: "Sign-ins, refreshes, refresh failures and revocations per hour (admin)",
        description:
          "One entry per hour of the last day (24) or week (168), oldest first, the current " +
          "hour last. Sign-ins and revocations come from the audit log; refreshes and failed " +
          "refreshes from hourly counters written with each refresh.",
        tags: ["internal"],
        security: API_KEY_BEARER,
        querystring: Type.Object({
          window: Type.Optional(
            Type.Union([Type.Literal("day"), Type.Literal("week")], { default: "day" }),
          ),
        }),
        response: {
          200: Type.Object({
            window: Type.Union([Type.Literal("day"), Type.Literal("week")]),
            hours: Type.Array(HourView),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      const window = request.query.window ?? "day";
      const hours = await activity(HOURS_OF[window]);
      return {
        window,
        hours: hours.map((entry) => ({ ...entry, hour: entry.hour.toISOString() })),
      };
    },
  );
};
