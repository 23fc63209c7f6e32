import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { deleteUser } from "../../../access/delete-user.js";
import { type RevokeDependencies, revokeGrant } from "../../../access/revoke.js";
import { StewardError } from "../../../errors.js";
import type { UserRecord } from "../../../store/index.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import {
  errorResponses,
  PageLimit,
  PublicUser,
  publicUser,
  Sub,
  SubParams,
} from "../../schemas.js";
import { askedScopes, handOutToken } from "../../token-handout.js";

export interface UsersRouteOptions extends RevokeDependencies {
  apiAuth: ApiAuth;
}

const Credential = Type.Union([
  Type.Object({
    status: Type.Union([Type.Literal("active"), Type.Literal("revoked"), Type.Literal("expired")]),
    grantedScopes: Type.Array(Type.String()),
    offlineAccess: Type.Boolean(),
    lastRefreshAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    revokedReason: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Null(),
]);
const AccountDisabled = Type.Union(
  [
    Type.Object({
      at: Type.String({ format: "date-time" }),
      reason: Type.Union([Type.String(), Type.Null()], {
        description: "As Google gave it: hijacking, bulk-account, or null.",
      }),
    }),
    Type.Null(),
  ],
  {
    description:
      "Set while Google says the account is disabled (Cross-Account Protection); null otherwise.",
  },
);
const SignIns = Type.Object(
  {
    total: Type.Integer(),
    withRefreshToken: Type.Integer({
      description:
        "Sign-ins that brought a new refresh token; Google keeps the newest 100 per account and client.",
    }),
  },
  { description: "Sign-ins recorded for this user." },
);
const UserView = Type.Object({
  user: PublicUser,
  credential: Credential,
  accountDisabled: AccountDisabled,
  signIns: SignIns,
});
const bearer = [{ apiKey: [] }];

function view(record: UserRecord) {
  const { credential, accountDisabled } = record;
  return {
    user: publicUser(record),
    accountDisabled: accountDisabled && {
      at: accountDisabled.at.toISOString(),
      reason: accountDisabled.reason,
    },
    signIns: { total: record.signIns, withRefreshToken: record.refreshTokenSignIns },
    credential: credential
      ? {
          status: credential.status,
          grantedScopes: [...credential.grantedScopes],
          offlineAccess: credential.status === "active" && credential.hasRefreshToken,
          lastRefreshAt: credential.lastRefreshAt?.toISOString() ?? null,
          lastError: credential.lastError,
          revokedReason: credential.revokedReason,
        }
      : null,
  };
}

// A cached token, and so its expiry, is the same object on every call: its text is made once
// (toISOString took ~1 µs of each access-token request).
const expiryTexts = new WeakMap<Date, string>();
function isoText(date: Date): string {
  let text = expiryTexts.get(date);
  if (text === undefined) {
    text = date.toISOString();
    expiryTexts.set(date, text);
  }
  return text;
}

/** The internal API over users, for backend code: `Authorization: Bearer <API key>`. */
export function usersRoutes(app: FastifyInstance, options: UsersRouteOptions): void {
  const { apiAuth, store } = options;
  const revokeKnownUser = async (request: FastifyRequest, sub: string, reason: string) => {
    const caller = await apiAuth.require(request, "admin");
    if ((await store.getUser(sub)) === undefined) throw new StewardError("user_not_found");
    return revokeGrant(options, sub, { reason, actor: caller.id });
  };

  app.get<{ Querystring: { after?: string; limit?: string; q?: string } }>(
    "/v1/users",
    {
      config: { personal: true },
      schema: {
        summary: "List users and the state of their Google connection (admin)",
        tags: ["internal"],
        security: bearer,
        querystring: Type.Object({
          after: Type.Optional(Sub({ description: "Cursor: the last sub of the previous page." })),
          limit: PageLimit(100),
          q: Type.Optional(
            Sub({
              description:
                "Only users whose email starts with this (any case), or whose sub does; `%` and `_` match only themselves.",
            }),
          ),
        }),
        response: {
          200: Type.Object({
            users: Type.Array(UserView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      const limit = Number(request.query.limit ?? 100);
      const users = await store.listUsers({
        after: request.query.after,
        limit,
        search: request.query.q,
      });
      return {
        users: users.map(view),
        nextCursor: users.length === limit ? (users.at(-1)?.sub ?? null) : null,
      };
    },
  );

  app.get<{ Params: { sub: string } }>(
    "/v1/users/:sub",
    {
      config: { personal: true },
      schema: {
        summary: "A user and the state of their Google connection (admin)",
        tags: ["internal"],
        security: bearer,
        params: SubParams,
        response: { 200: UserView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      const record = await store.getUser(request.params.sub);
      if (record === undefined) throw new StewardError("user_not_found");
      return view(record);
    },
  );

  app.delete<{ Params: { sub: string } }>(
    "/v1/users/:sub",
    {
      schema: {
        summary: "Revoke the user's grant at Google, then forget the user (admin)",
        tags: ["internal"],
        security: bearer,
        params: SubParams,
        response: {
          200: Type.Object({ revokedAtGoogle: Type.Boolean() }),
          ...errorResponses(400, 401, 403, 404, 502),
        },
      },
    },
    async (request) => {
      const caller = await apiAuth.require(request, "admin");
      return deleteUser(options, request.params.sub, {
        reason: "deleted_by_admin",
        actor: caller.id,
      });
    },
  );

  app.post<{ Params: { sub: string } }>(
    "/v1/users/:sub/revoke",
    {
      schema: {
        summary: "Revoke the user's grant at Google and mark it revoked, keeping the user (admin)",
        tags: ["internal"],
        security: bearer,
        params: SubParams,
        response: {
          200: Type.Object({ revokedAtGoogle: Type.Boolean() }),
          ...errorResponses(400, 401, 403, 404, 502),
        },
      },
    },
    // The user stays, with status `revoked`: their jobs now fail with credential_revoked and
    // the app can ask them to sign in again.
    (request) => revokeKnownUser(request, request.params.sub, "revoked_by_admin"),
  );

  app.get<{ Params: { sub: string }; Querystring: { scope?: string | string[] } }>(
    "/v1/users/:sub/access-token",
    {
      // The hot path of backends: no per-request info line, refusals included (they are counted
      // in the metrics); a 5xx still logs at error. See docs/configuration.md, Logs.
      logLevel: "warn",
      schema: {
        summary: "A fresh access token for the user (tokens:read)",
        tags: ["internal"],
        security: bearer,
        params: SubParams,
        querystring: Type.Object({
          scope: Type.Optional(
            Type.Union([Type.String(), Type.Array(Type.String())], {
              description:
                "Scopes the caller needs (repeat, or space-separated); 403 scope_not_granted otherwise.",
            }),
          ),
        }),
        response: {
          200: Type.Object({
            accessToken: Type.String(),
            expiresAt: Type.String({ format: "date-time" }),
            scopes: Type.Array(Type.String()),
          }),
          ...errorResponses(400, 401, 403, 404, 409, 502, 503),
        },
      },
    },
    async (request, reply) => {
      const caller = await apiAuth.require(request, "tokens:read");
      const token = await handOutToken(options, caller, request.params.sub, {
        scopes: askedScopes(request.query.scope),
      });
      reply.header("cache-control", "no-store");
      return {
        accessToken: token.token,
        expiresAt: isoText(token.expiresAt),
        scopes: token.scopes,
      };
    },
  );
}
