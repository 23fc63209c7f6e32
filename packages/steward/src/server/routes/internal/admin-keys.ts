import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { KeyUsage } from "../../../crypto/key-usage.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses } from "../../schemas.js";

export interface AdminKeysRouteOptions {
  apiAuth: ApiAuth;
  /** Credentials per key id (see vault/key-usage.ts). */
  keyUsage(): Promise<KeyUsage[]>;
}

/** `GET /v1/admin/keys`: how far a key rotation has come, for the admin page (admin). */
export const adminKeysRoute: FastifyPluginAsyncTypebox<AdminKeysRouteOptions> = async (
  app,
  { apiAuth, keyUsage },
) => {
  app.get(
    "/v1/admin/keys",
    {
      config: { personal: true },
      schema: {
        summary: "Credentials sealed by each key id: how far a rotation has come (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                kid: Type.String(),
                credentials: Type.Integer({ minimum: 0 }),
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
      return { keys: await keyUsage() };
    },
  );
};
