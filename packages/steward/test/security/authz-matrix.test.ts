import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiKeyScope } from "../../src/api-keys/index.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { postCode, startTestService, type TestService } from "../server/helpers.js";
import {
  ADMIN_TOKEN,
  type Answer,
  createKeys,
  type RouteId,
  rawRequest,
  registeredRoutes,
} from "./support.js";

/**
 * Who may call each internal route. A route under /v1/ that is neither here nor in
 * AUTHENTICATED_OTHERWISE fails the first test: a new route cannot be forgotten.
 */
const SCOPE_OF: Array<[RegExp, ApiKeyScope]> = [
  [/^(GET|HEAD) \/v1\/users$/, "admin"],
  [/^(GET|HEAD|DELETE) \/v1\/users\/:sub$/, "admin"],
  [/^POST \/v1\/users\/:sub\/revoke$/, "admin"],
  [/^(GET|HEAD) \/v1\/users\/:sub\/access-token$/, "tokens:read"],
  // Every method of the proxy, whatever Fastify's `all` adds.
  [/^[A-Z]+ \/v1\/users\/:sub\/google\/\*$/, "proxy"],
  [/^(GET|HEAD) \/v1\/audit-events$/, "admin"],
  [/^(GET|HEAD) \/v1\/jobs$/, "admin"],
  [/^(GET|HEAD) \/v1\/admin\/activity$/, "admin"],
  [/^(GET|HEAD) \/v1\/admin\/keys$/, "admin"],
];

/** /v1/ routes that take no API key, and what guards them instead (each has its own tests). */
const AUTHENTICATED_OTHERWISE: Record<string, string> = {
  "POST /v1/auth/google/code": "public: the one-time code is the credential (X-Requested-With)",
  "GET /v1/me": "the user's own Google ID token",
  "HEAD /v1/me": "the user's own Google ID token",
  "DELETE /v1/me/connection": "the user's own Google ID token",
  // Issue 15's RISC receiver: a Security Event Token signed by Google.
  "POST /v1/risc": "a SET signed with a key of Google's RISC JWKS",
};

const UNKNOWN_SUB = "1000000000000000000000";
let steward: TestService;
let keys: Awaited<ReturnType<typeof createKeys>>;
let sub: string;
let internalRoutes: Array<{ route: RouteId; scope: ApiKeyScope }>;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  keys = await createKeys(steward);
  const { serverAuthCode, sub: signedIn } = await sdkSignIn(steward.google, {
    email: "authz@example.com",
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
  sub = signedIn;
  internalRoutes = registeredRoutes(steward.service.app).flatMap((route) => {
    const scope = SCOPE_OF.find(([pattern]) => pattern.test(route))?.[1];
    return scope === undefined ? [] : [{ route, scope }];
  });
}, 120_000);
afterAll(() => steward?.close());

/** Calls `route` for `who` with `authorization` (none when undefined). */
function call(route: RouteId, who: string, authorization: string | undefined): Promise<Answer> {
  const [method, template] = route.split(" ") as [string, string];
  const path = template.replace(":sub", who).replace("*", "drive/v3/files");
  return rawRequest(steward.url, {
    method,
    path,
    headers: authorization === undefined ? {} : { authorization },
  });
}

/** The documented envelope and nothing else: no stack, no echo of what was presented. */
function expectRefusal(answer: Answer, route: RouteId, status: number, code: string): void {
  expect(answer.status, route).toBe(status);
  if (route.startsWith("HEAD ")) return;
  const body = JSON.parse(answer.body);
  expect(Object.keys(body), route).toEqual(["error"]);
  expect(Object.keys(body.error).sort(), route).toEqual(["code", "message"]);
  expect(body.error.code, route).toBe(code);
  expect(typeof body.error.message, route).toBe("string");
}

/** The refusals changed nothing: the user, their credential and their grant at Google. */
async function expectUserUntouched(): Promise<void> {
  const shown = await call(`GET /v1/users/:sub`, sub, `Bearer ${ADMIN_TOKEN}`);
  expect(shown.status).toBe(200);
  expect(JSON.parse(shown.body).credential.status).toBe("active");
  const { grants } = (await control(steward.google, "GET", `/emulator/users/${sub}/grants`)).body;
  expect(grants[0].revoked).toBe(false);
}

describe("authorization of every internal route", () => {
  it("knows every /v1/ route: each is in the matrix or authenticated otherwise", () => {
    const v1 = registeredRoutes(steward.service.app).filter((route) =>
      route.split(" ")[1]?.startsWith("/v1/"),
    );
    const unclassified = v1.filter(
      (route) =>
        !(route in AUTHENTICATED_OTHERWISE) && !SCOPE_OF.some(([pattern]) => pattern.test(route)),
    );
    expect(unclassified).toEqual([]);
    // Every line of the matrix still names a route (the enumeration did find them).
    for (const [pattern] of SCOPE_OF) {
      expect(
        internalRoutes.some(({ route }) => pattern.test(route)),
        String(pattern),
      ).toBe(true);
    }
    expect(internalRoutes.length).toBeGreaterThanOrEqual(15);
  });

  it("refuses every internal route without a key: 401 unauthenticated", async () => {
    for (const { route } of internalRoutes) {
      expectRefusal(await call(route, sub, undefined), route, 401, "unauthenticated");
    }
    await expectUserUntouched();
  });

  it("refuses every internal route with a revoked key, one used before it was revoked too: 401", async () => {
    const revokedUnused = await keys.apiKeys.create("revoked unused", ["admin"]);
    await keys.apiKeys.revoke(revokedUnused.info.id);
    const revokedInUse = await keys.apiKeys.create("revoked in use", ["admin"]);
    const listUsers: RouteId = "GET /v1/users";
    expect((await call(listUsers, sub, `Bearer ${revokedInUse.key}`)).status).toBe(200);
    await keys.apiKeys.revoke(revokedInUse.info.id);
    await waitUntil(
      async () => (await call(listUsers, sub, `Bearer ${revokedInUse.key}`)).status === 401,
      "the revocation to be heard",
    );
    for (const key of [revokedUnused.key, revokedInUse.key]) {
      for (const { route } of internalRoutes) {
        const answer = await call(route, sub, `Bearer ${key}`);
        expectRefusal(answer, route, 401, "unauthenticated");
        expect(answer.body).not.toContain(key);
      }
    }
    await expectUserUntouched();
  });

  it("refuses every internal route with a credential that is not a key: 401", async () => {
    const notKeys = [
      "Bearer stw_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      `Bearer ${keys.admin.slice(0, -1)}${keys.admin.endsWith("A") ? "B" : "A"}`,
      `Bearer ${ADMIN_TOKEN}x`,
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}`,
      "Bearer",
      keys.admin,
    ];
    for (const authorization of notKeys) {
      for (const { route } of internalRoutes) {
        const answer = await call(route, sub, authorization);
        expectRefusal(answer, route, 401, "unauthenticated");
      }
    }
    await expectUserUntouched();
  });

  it("refuses every internal route with a key of another scope: 403 forbidden", async () => {
    const scopesOf: Record<string, ApiKeyScope[]> = {
      [keys.tokens]: ["tokens:read"],
      [keys.proxy]: ["proxy"],
      [keys.tokensAndProxy]: ["tokens:read", "proxy"],
    };
    let refusals = 0;
    for (const { route, scope } of internalRoutes) {
      for (const [key, scopes] of Object.entries(scopesOf)) {
        if (scopes.includes(scope)) continue;
        expectRefusal(await call(route, sub, `Bearer ${key}`), route, 403, "forbidden");
        refusals++;
      }
    }
    // Each admin route refused three keys, the others one or two each.
    expect(refusals).toBeGreaterThan(internalRoutes.length);
    await expectUserUntouched();
  });

  it("lets a key of the route's scope, an admin key and STEWARD_ADMIN_TOKEN through every internal route", async () => {
    const keyOf: Record<ApiKeyScope, string> = {
      "tokens:read": keys.tokens,
      proxy: keys.proxy,
      admin: keys.admin,
    };
    for (const { route, scope } of internalRoutes) {
      for (const key of [keyOf[scope], keys.admin, ADMIN_TOKEN]) {
        // An unknown user: nothing is changed by a route that lets the caller through.
        const answer = await call(route, UNKNOWN_SUB, `Bearer ${key}`);
        // Past authorization: found or not, (QUERY without a body) malformed, or (the proxy's
        // TRACE) refused as a method; never 401/403.
        expect([200, 204, 400, 404, 405], `${route} ${answer.body}`).toContain(answer.status);
      }
    }
  });

  it("takes no API key where the user's own ID token is the credential", async () => {
    const answer = await rawRequest(steward.url, {
      method: "GET",
      path: "/v1/me",
      headers: { authorization: `Bearer ${keys.admin}` },
    });
    expectRefusal(answer, "GET /v1/me", 401, "id_token_invalid");
  });
});
