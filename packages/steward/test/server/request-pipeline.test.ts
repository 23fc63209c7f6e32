// What every request goes through besides its handler: the request id, the metrics, the rate
// limit of public routes, browsers' security headers, and the request's log lines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postCode, signInThroughService, startTestService, type TestService } from "./helpers.js";

const ADMIN_TOKEN = "admin-token-for-pipeline-tests-0123456789";
const RATE_LIMIT = 5;
let steward: TestService;
let sub: string;

beforeAll(async () => {
  steward = await startTestService(
    { STEWARD_ADMIN_TOKEN: ADMIN_TOKEN },
    { rateLimitPerMinute: RATE_LIMIT },
  );
  // Signing in is one public, rate-limited request: the rate-limit test counts it.
  sub = await signInThroughService(steward, "pipeline@example.com");
}, 120_000);
afterAll(() => steward?.close());

const tokenPath = () => `/v1/users/${sub}/access-token`;
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${steward.url}${path}`, { headers });
const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function routeCount(route: string, status: number): Promise<number> {
  const text = await (await get("/metrics")).text();
  const line = text
    .split("\n")
    .find((row) =>
      row.startsWith(
        `steward_http_request_duration_seconds_count{method="GET",route="${route}",status="${status}"}`,
      ),
    );
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("request ids", () => {
  it("answers every request with its x-request-id: the caller's when well formed, else a new one", async () => {
    const answered = await get(tokenPath(), { ...asAdmin, "x-request-id": "trace-42" });
    expect(answered.status).toBe(200);
    expect(answered.headers.get("x-request-id")).toBe("trace-42");
    const refused = await get(tokenPath(), { "x-request-id": "bad id with spaces" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await get("/no/such/route");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("logs a refusal with its request id and without the presented key", async () => {
    const response = await get("/v1/users", {
      authorization: "Bearer not-a-key-0123456789",
      "x-request-id": "refusal-7",
    });
    expect(response.status).toBe(401);
    const line = steward
      .logs()
      .split("\n")
      .find((row) => row.includes('"reqId":"refusal-7"') && row.includes("request refused"));
    expect(line).toBeDefined();
    expect(steward.logs()).not.toContain("not-a-key-0123456789");
  });

  it("writes incoming request and request completed for a route that logs at info", async () => {
    expect((await get("/healthz", { "x-request-id": "loud-1" })).status).toBe(200);
    const lines = steward
      .logs()
      .split("\n")
      .filter((row) => row.includes('"reqId":"loud-1"'))
      .map((row) => JSON.parse(row).msg);
    expect(lines).toEqual(["incoming request", "request completed"]);
  });

  it("writes no per-request line for the access-token route when it answers", async () => {
    const response = await get(tokenPath(), { ...asAdmin, "x-request-id": "quiet-1" });
    expect(response.status).toBe(200);
    expect(steward.logs()).not.toContain('"reqId":"quiet-1"');
  });
});

describe("metrics", () => {
  it("counts the access-token route by route pattern and status", async () => {
    const route = "/v1/users/:sub/access-token";
    const before = await routeCount(route, 200);
    const refusedBefore = await routeCount(route, 401);
    for (let call = 0; call < 3; call++) expect((await get(tokenPath(), asAdmin)).status).toBe(200);
    expect((await get(tokenPath())).status).toBe(401);
    expect(await routeCount(route, 200)).toBe(before + 3);
    expect(await routeCount(route, 401)).toBe(refusedBefore + 1);
  });
});

describe("rate limit and security headers", () => {
  it("limits public routes per address with one count, and never the internal API", async () => {
    // The internal API is behind keys: many calls, none limited.
    for (let call = 0; call < RATE_LIMIT * 2; call++) {
      expect((await get(tokenPath(), asAdmin)).status).toBe(200);
    }
    // Sign-in used one request of the minute; the code route and /v1/me share what is left.
    const statuses: number[] = [];
    for (let call = 1; call < RATE_LIMIT; call++) {
      statuses.push((await postCode(steward.url, { code: "not-a-code" })).status);
    }
    expect(statuses).not.toContain(429);
    const limited = await get("/v1/me", { "x-requested-with": "XMLHttpRequest" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await limited.json()).error.code).toBe("rate_limited");
    expect((await get(tokenPath(), asAdmin)).status).toBe(200);
  });

  it("sends browsers' security headers on what a browser loads, not on the internal API", async () => {
    const page = await get("/admin");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("content-security-policy")).toBeTruthy();
    const token = await get(tokenPath(), asAdmin);
    expect(token.headers.get("content-security-policy")).toBeNull();
    expect(token.headers.get("cache-control")).toBe("no-store");
  });
});
