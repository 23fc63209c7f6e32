import type { FastifyInstance } from "fastify";
import type { EmulatorContext } from "../context.js";
import type { Faults } from "../faults.js";
import { sendApiError } from "../google-errors.js";
import { signIdToken } from "../id-token.js";
import type { EmulatorClient } from "../model.js";
import { type ClientInput, normalizeScopes, type UserInput } from "../state.js";

const str = { type: "string", minLength: 1, maxLength: 2048 } as const;
const strList = { type: "array", items: str, maxItems: 100 } as const;
const scopeList = { anyOf: [strList, { type: "string", maxLength: 4096 }] } as const;
const seconds = { type: "integer", minimum: 1, maximum: 10 ** 8 } as const;

/** The control API for tests and demos (JSON; a test tool, so it shows secrets). */
export function controlRoutes(app: FastifyInstance, ctx: EmulatorContext, faults: Faults): void {
  const { state } = ctx;

  app.post<{ Body: ClientInput & { type: "web" | "installed" } }>(
    "/emulator/clients",
    {
      schema: {
        body: {
          type: "object",
          required: ["type"],
          additionalProperties: false,
          properties: {
            clientId: str,
            clientSecret: str,
            type: { enum: ["web", "installed"] },
            redirectUris: strList,
            javascriptOrigins: strList,
            publishingStatus: { enum: ["testing", "production"] },
          },
        },
      },
    },
    async (request, reply) => {
      if (request.body.clientId && state.clients.has(request.body.clientId)) {
        return sendApiError(reply, 409, "A client with this clientId exists.");
      }
      return reply.code(201).send(clientJson(state.registerClient(request.body)));
    },
  );
  app.get("/emulator/clients", async () => ({
    clients: [...state.clients.values()].map(clientJson),
  }));

  app.post<{ Body: UserInput }>(
    "/emulator/users",
    {
      schema: {
        body: {
          type: "object",
          required: ["email"],
          additionalProperties: false,
          properties: {
            email: { type: "string", format: "email", maxLength: 320 },
            name: str,
            givenName: str,
            familyName: str,
            picture: str,
            locale: str,
            hd: str,
            emailVerified: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) => reply.code(201).send(state.createUser(request.body)),
  );
  app.get("/emulator/users", async () => ({ users: [...state.users.values()] }));

  // Many users at once, each having consented to `scopes` with offline access, as a sign-in
  // leaves them: a live refresh token and access token each (for `steward seed`).
  app.post<{ Body: { clientId: string; scopes: string | string[]; users: UserInput[] } }>(
    "/emulator/users::bulk",
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        body: {
          type: "object",
          required: ["clientId", "scopes", "users"],
          additionalProperties: false,
          properties: {
            clientId: str,
            scopes: scopeList,
            users: {
              type: "array",
              maxItems: 10_000,
              items: {
                type: "object",
                required: ["email"],
                additionalProperties: false,
                properties: { email: { type: "string", maxLength: 320 }, name: str },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { clientId, users } = request.body;
      if (!state.clients.has(clientId)) return sendApiError(reply, 404, "Unknown clientId.");
      const scopes = normalizeScopes(request.body.scopes);
      const made = users.map((input) => {
        const user = state.createUser(input);
        const refreshToken = state.issueRefreshToken(user.sub, clientId, scopes);
        const { accessToken, expiresIn } = state.issueAccessToken(
          user.sub,
          clientId,
          scopes,
          refreshToken,
        );
        return { ...user, refreshToken, accessToken, expiresIn };
      });
      return reply.code(201).send({ scopes, users: made });
    },
  );

  app.post<{
    Body: {
      email?: string;
      sub?: string;
      clientId: string;
      serverClientId?: string;
      scopes?: string | string[];
      grantedScopes?: string | string[];
      prompt?: string;
      nonce?: string;
    };
  }>(
    "/emulator/sign-in",
    {
      schema: {
        body: {
          type: "object",
          required: ["clientId"],
          additionalProperties: false,
          properties: {
            email: { type: "string", format: "email", maxLength: 320 },
            sub: str,
            clientId: str,
            serverClientId: str,
            scopes: scopeList,
            grantedScopes: scopeList,
            prompt: str,
            nonce: str,
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const app = state.clients.get(body.clientId);
      const server = state.clients.get(body.serverClientId ?? body.clientId);
      if (app === undefined || server === undefined) {
        return sendApiError(reply, 404, "Unknown clientId or serverClientId; register it first.");
      }
      const user = body.sub
        ? state.users.get(body.sub)
        : body.email
          ? (state.findUser(body.email) ?? state.createUser({ email: body.email }))
          : undefined;
      if (user === undefined)
        return sendApiError(reply, 404, "Give the email or the sub of a known user.");
      // The sign-in SDKs always ask for the OpenID scopes.
      const requested = ["openid", "email", "profile", ...normalizeScopes(body.scopes ?? [])];
      const { code, scopes } = state.mintCode({
        clientId: server.clientId,
        authorizedParty: app.clientId,
        sub: user.sub,
        requestedScopes: requested,
        grantedScopes:
          body.grantedScopes === undefined ? undefined : normalizeScopes(body.grantedScopes),
        // SDK codes carry no redirect: "" (and "postmessage", as Google's backend samples send).
        redirectUris: ["", "postmessage"],
        offline: true,
        prompt: body.prompt,
        nonce: body.nonce,
      });
      const idToken = signIdToken(ctx, {
        user,
        audience: server.clientId,
        authorizedParty: app.clientId,
        scopes,
        nonce: body.nonce,
      });
      return { serverAuthCode: code, idToken, grantedScopes: scopes, sub: user.sub };
    },
  );

  app.get<{ Params: { sub: string } }>("/emulator/users/:sub/grants", async (request, reply) => {
    if (!state.users.has(request.params.sub)) return sendApiError(reply, 404, "Unknown user.");
    return { grants: state.grantsOf(request.params.sub) };
  });
  app.post<{ Params: { sub: string }; Body: { clientId?: string } | undefined }>(
    "/emulator/users/:sub/revoke",
    async (request, reply) => {
      if (!state.users.has(request.params.sub)) return sendApiError(reply, 404, "Unknown user.");
      const clientId = (request.body as { clientId?: unknown } | undefined)?.clientId;
      const revoked = state.revokeGrant(
        request.params.sub,
        typeof clientId === "string" ? clientId : undefined,
      );
      return { revoked };
    },
  );

  app.get("/emulator/settings", async () => state.settings);
  app.put<{ Body: Partial<typeof state.settings> }>(
    "/emulator/settings",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            accessTokenTtlSeconds: seconds,
            codeTtlSeconds: seconds,
            idTokenTtlSeconds: seconds,
            jwksMaxAgeSeconds: { type: "integer", minimum: 0, maximum: 10 ** 8 },
            refreshTokenLimit: { type: "integer", minimum: 1, maximum: 10_000 },
            riscRetryBaseMs: { type: "integer", minimum: 1, maximum: 3_600_000 },
            riscMaxAttempts: { type: "integer", minimum: 1, maximum: 100 },
            dateSkewSeconds: { type: "integer", minimum: -(10 ** 8), maximum: 10 ** 8 },
            refreshTokenIdleSeconds: seconds,
            publishingStatus: { enum: ["testing", "production"] },
            testingRefreshTokenSeconds: seconds,
          },
        },
      },
    },
    async (request) => Object.assign(state.settings, request.body),
  );

  // The clock only moves ahead: expiry tests jump months without waiting.
  app.post<{ Body: { advanceSeconds: number } }>(
    "/emulator/clock",
    {
      schema: {
        body: {
          type: "object",
          required: ["advanceSeconds"],
          additionalProperties: false,
          properties: { advanceSeconds: { type: "integer", minimum: 0, maximum: 10 ** 9 } },
        },
      },
    },
    async (request) => {
      const nowMs = state.advanceClock(request.body.advanceSeconds);
      return {
        now: new Date(nowMs).toISOString(),
        clockOffsetSeconds: state.settings.clockOffsetSeconds,
      };
    },
  );
  app.get("/emulator/clock", async () => ({
    now: new Date(state.now()).toISOString(),
    clockOffsetSeconds: state.settings.clockOffsetSeconds,
  }));

  app.post<{
    Body: {
      path: string;
      status?: number;
      body?: unknown;
      headers?: Record<string, string>;
      latencyMs?: number;
      times?: number;
      reset?: boolean;
      share?: number;
    };
  }>(
    "/emulator/faults",
    {
      schema: {
        body: {
          type: "object",
          required: ["path"],
          additionalProperties: false,
          properties: {
            path: { type: "string", pattern: "^/", maxLength: 2048 },
            status: { type: "integer", minimum: 100, maximum: 599 },
            body: {},
            latencyMs: { type: "integer", minimum: 0, maximum: 600_000 },
            times: { type: "integer", minimum: 1, maximum: 1_000_000 },
            reset: { type: "boolean" },
            share: { type: "number", exclusiveMinimum: 0, maximum: 1 },
            headers: {
              type: "object",
              additionalProperties: { type: "string", maxLength: 2048 },
              maxProperties: 20,
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { times = 1, ...fault } = request.body;
      faults.add({ ...fault, times });
      return reply.code(201).send({ faults: faults.list() });
    },
  );
  app.delete("/emulator/faults", async () => {
    faults.clear();
    return { faults: [] };
  });

  app.post("/emulator/keys/rotate", async () => ctx.keys.rotate());

  app.get("/emulator/stats", async () => state.stats());
  app.delete("/emulator/stats", async () => {
    state.resetStats();
    return state.stats();
  });
}

function clientJson(client: EmulatorClient) {
  return { ...client, clientSecret: client.clientSecret ?? null };
}
