import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { type AppContext, errorResponses } from "steward";
import { featuresOf } from "../features.js";
import { SessionResponse } from "../schemas.js";
import type { DemoSessions } from "../session.js";

export interface SessionRoutesOptions {
  sessions: DemoSessions;
  signIn: AppContext["signIn"];
  guard: AppContext["guardBrowserPost"];
}

/**
 * The page's session: `POST /demo/api/session` signs in with the popup's code (exchanged as
 * `POST /v1/auth/google/code` does) and sets the cookie; `DELETE` signs out everywhere.
 */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (
  app,
  { sessions, signIn, guard },
) => {
  app.post<{ Body: { code: string; redirectUri?: string } }>(
    "/demo/api/session",
    {
      config: { rateLimited: true },
      preHandler: guard,
      schema: {
        summary: "Sign in to the demo: the code goes to POST /v1/auth/google/code",
        tags: ["demo"],
        body: Type.Object(
          {
            code: Type.String({ maxLength: 1024 }),
            redirectUri: Type.Optional(Type.String({ maxLength: 2048 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: SessionResponse,
          ...errorResponses(400, 401, 403, 413, 415, 429, 500, 502),
        },
      },
    },
    async (request, reply) => {
      // The code goes through POST /v1/auth/google/code's own exchange, under this route's
      // guards (the same as that route's) and this browser's own rate limit.
      const body = await signIn(request.body);
      reply.header("set-cookie", sessions.issue(body.user.sub, request.protocol === "https"));
      return { ...body, features: featuresOf(body.grantedScopes) };
    },
  );

  app.delete(
    "/demo/api/session",
    {
      preHandler: guard,
      schema: {
        tags: ["demo"],
        response: { 200: Type.Object({ signedOut: Type.Boolean() }), ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      // Every copy of the cookie ends, not only this browser's.
      const sub = sessions.verify(request.headers.cookie);
      if (sub !== undefined) sessions.endAll(sub);
      reply.header("set-cookie", sessions.clear(request.protocol === "https"));
      return { signedOut: true };
    },
  );
};
