import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { KeyUsage } from "../../../crypto/index.js";
import type { HourOfActivity } from "../../../store/index.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { errorResponses } from "../../schemas.js";

/** What the admin page charts and counts, read from the vault. */
export interface AdminInsight {
  /** The last `hours` hours, oldest first (see store/activity.ts). */
  activity(hours: number): Promise<HourOfActivity[]>;
  /** Credentials per key id (see crypto/key-usage.ts). */
  keyUsage(): Promise<KeyUsage[]>;
}

export interface AdminInsightRouteOptions {
  apiAuth: ApiAuth;
  insight: AdminInsight;
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
const bearer = [{ apiKey: [] }];

/** `GET /v1/admin/activity` and `GET /v1/admin/keys`: the admin page's picture of the service. */
export function adminInsightRoutes(app: FastifyInstance, options: AdminInsightRouteOptions): void {
  const { apiAuth, insight } = options;

  app.get<{ Querystring: { window?: "day" | "week" } }>(
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
        security: bearer,
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
      const hours = await insight.activity(HOURS_OF[window]);
      return {
        window,
        hours: hours.map((entry) => ({ ...entry, hour: entry.hour.toISOString() })),
      };
    },
  );

  app.get(
    "/v1/admin/keys",
    {
      config: { personal: true },
      schema: {
        summary: "Credentials sealed by each key id: how far a rotation has come (admin)",
        tags: ["internal"],
        security: bearer,
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                kid: Type.String(),
                credentials: Count,
                active: Type.Boolean({ description: "The key new tokens are sealed with." }),
                inRing: Type.Boolean({ description: "False when STEWARD_KEYS lacks it." }),
              }),
            ),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      return { keys: await insight.keyUsage() };
    },
  );
}
