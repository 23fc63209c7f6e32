import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { startTestService, type TestService } from "../server/helpers.js";
import { jsonOf, type RawAnswer, rawRequest } from "./support/raw-request.js";

// A `sub` the store cannot hold (NUL, over 255 characters) used to reach PostgreSQL and come
// back as a 500 with a stack trace in the log. Every route carrying a sub answers 400 now.

const ADMIN_TOKEN = "admin-token-for-malformed-input-0123456789";
const LONGEST_SUB = "1".repeat(255);
const TOO_LONG_SUB = "1".repeat(256);
let steward: TestService;
let proxyKey: string;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  proxyKey = (await new ApiKeys(steward.service.vault.database.db).create("proxy", ["proxy"])).key;
}, 120_000);
afterAll(() => steward?.close());

const send = (method: string, path: string, bearer = ADMIN_TOKEN) =>
  rawRequest(steward.url, {
    method,
    path,
    headers: { authorization: `Bearer ${bearer}`, "x-requested-with": "test" },
  });

function expectInvalidRequest(answer: RawAnswer): void {
  expect(answer.status, answer.body).toBe(400);
  expect(jsonOf(answer), answer.body).toEqual({
    error: { code: "invalid_request", message: expect.any(String) },
  });
}

/** Every route that carries a sub, with `SUB` standing for it. */
const SUB_ROUTES: Array<[method: string, path: string, bearer?: () => string]> = [
  ["GET", "/v1/users/SUB"],
  ["DELETE", "/v1/users/SUB"],
  ["POST", "/v1/users/SUB/revoke"],
  ["GET", "/v1/users/SUB/access-token"],
  ["GET", "/v1/users/SUB/google/drive/v3/files", () => proxyKey],
  ["GET", "/v1/audit-events?sub=SUB"],
  ["GET", "/v1/jobs?sub=SUB"],
  ["GET", "/v1/users?after=SUB"],
];

describe("a sub holding NUL", () => {
  it.each(SUB_ROUTES)(
    "%s %s answers 400 invalid_request, and logs no failure",
    async (method, path, bearer) => {
      const before = steward.logs().length;
      expectInvalidRequest(await send(method, path.replace("SUB", "%00"), bearer?.()));
      const logged = steward.logs().slice(before);
      expect(logged).not.toContain("internal_error");
      expect(logged).not.toContain('"stack"');
    },
  );
});

describe("a sub over 255 characters", () => {
  it.each(SUB_ROUTES)(
    "%s %s answers 400 invalid_request, not Fastify's 414",
    async (method, path, bearer) => {
      const answer = await send(method, path.replace("SUB", TOO_LONG_SUB), bearer?.());
      expectInvalidRequest(answer);
      expect(answer.body).not.toContain("FST_");
    },
  );
});

describe("a sub of exactly 255 characters", () => {
  it.each(SUB_ROUTES.filter(([, path]) => path.startsWith("/v1/users/SUB")))(
    "%s %s is taken: there is no such user",
    async (method, path, bearer) => {
      const answer = await send(method, path.replace("SUB", LONGEST_SUB), bearer?.());
      expect(answer.status, answer.body).toBe(404);
      expect(jsonOf(answer)?.error?.code).toBe("user_not_found");
    },
  );
});

describe("every route with a path parameter", () => {
  const MALFORMED = [
    ["NUL", "%00"],
    ["an over-long value", "9".repeat(300)],
    ["a control character", "%01"],
    ["an encoded slash and dots", "..%2F..%2Fx"],
  ] as const;

  it("answers each malformed parameter with a 4xx envelope, never a 500", async () => {
    const spec = steward.service.app.swagger() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      path.includes("{") ? Object.keys(methods).map((method) => [method.toUpperCase(), path]) : [],
    );
    // The five /v1/users/{sub} routes at least (the demo's are mounted only with --app now).
    expect(routes.length).toBeGreaterThanOrEqual(5);
    for (const [method, path] of routes) {
      for (const [name, value] of MALFORMED) {
        const answer = await send(method as string, (path as string).replace(/\{[^}]+\}/g, value));
        const where = `${method} ${path} with ${name}: ${answer.status} ${answer.body}`;
        expect(answer.status, where).toBeGreaterThanOrEqual(400);
        expect(answer.status, where).toBeLessThan(500);
        // A HEAD answer has no body to hold the envelope.
        if (method !== "HEAD")
          expect(jsonOf(answer)?.error?.code, where).toEqual(expect.any(String));
      }
    }
    expect(steward.logs()).not.toContain("internal_error");
  });
});
