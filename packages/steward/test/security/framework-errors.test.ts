import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { startTestService, type TestService } from "../server/helpers.js";
import { jsonOf, type RawAnswer, rawExchange, rawRequest } from "./support/raw-request.js";

// What Fastify's router and Node's HTTP parser refuse before any route runs used to answer in
// their own shapes (414 FST_ERR_MAX_PARAM_LENGTH, 400 FST_ERR_BAD_URL echoing the URL, 431 with
// Fastify's body). Every such refusal answers the envelope now, and echoes nothing.

const ADMIN_TOKEN = "admin-token-for-framework-errors-0123456789";
let steward: TestService;
let proxyKey: string;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  proxyKey = (await new ApiKeys(steward.service.vault.database.db).create("proxy", ["proxy"])).key;
}, 120_000);
afterAll(() => steward?.close());

function expectEnvelope(answer: RawAnswer, status: number, code: string, echoed: string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(jsonOf(answer), answer.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(answer.body).not.toContain(echoed);
  expect(answer.body).not.toContain("FST_");
}

const BAD_ENCODINGS = [
  ["an invalid byte", "%ff"],
  ["a lone percent sign", "%"],
  ["an overlong UTF-8 NUL", "%C0%80"],
] as const;
const ROUTES_WITH_PATHS = [
  "/v1/users/MARK",
  "/v1/users/MARK/access-token",
  "/v1/users/123/google/drive/v3/files/MARK",
  "/MARK",
  "/docs/MARK",
];

describe("a path that is not validly percent-encoded", () => {
  for (const [name, encoded] of BAD_ENCODINGS) {
    it.each(ROUTES_WITH_PATHS)(`answers 400 invalid_request for ${name} in %s`, async (route) => {
      const marker = `zz${encoded}echo`;
      const answer = await rawRequest(steward.url, {
        path: route.replace("MARK", marker),
        headers: { authorization: `Bearer ${route.includes("google") ? proxyKey : ADMIN_TOKEN}` },
      });
      expectEnvelope(answer, 400, "invalid_request", "echo");
      expect(answer.headers["x-request-id"]).toBeTruthy();
    });
  }
});

describe("a path parameter over the longest sub", () => {
  it("answers 400 invalid_request, not 414 FST_ERR_MAX_PARAM_LENGTH", async () => {
    const answer = await rawRequest(steward.url, {
      path: `/v1/users/${"7".repeat(1000)}/access-token`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expectEnvelope(answer, 400, "invalid_request", "7777777777");
  });
});

describe("what Node's HTTP parser refuses", () => {
  it("answers over-long headers with 431 headers_too_large, echoing none of them", async () => {
    const filler = "secret-filler-".repeat(1300);
    const answer = await rawExchange(steward.url, `GET /v1/users HTTP/1.1\r\nX-Filler: ${filler}`);
    expectEnvelope(answer, 431, "headers_too_large", "secret-filler");
    expect(answer.headers.connection).toBe("close");
  });

  it("answers an over-long request line with 431 headers_too_large, echoing nothing", async () => {
    const answer = await rawExchange(
      steward.url,
      `GET /v1/users?after=${"long-cursor-".repeat(1500)} HTTP/1.1`,
    );
    expectEnvelope(answer, 431, "headers_too_large", "long-cursor");
  });

  it("answers a header holding a control character with 400 invalid_request", async () => {
    const answer = await rawExchange(
      steward.url,
      `GET /v1/users HTTP/1.1\r\nAuthorization: Bearer bad\u0001token-echo`,
    );
    expectEnvelope(answer, 400, "invalid_request", "token-echo");
  });

  it("answers a malformed request line with 400 invalid_request", async () => {
    const answer = await rawExchange(steward.url, "GET /v1/users echo-HTTP/9.9");
    expectEnvelope(answer, 400, "invalid_request", "echo");
  });
});

describe("the emulator, in Google's shape", () => {
  it.each(BAD_ENCODINGS)(
    "answers a plain 400 for %s in the path, echoing nothing",
    async (_name, encoded) => {
      const answer = await rawRequest(steward.google.url, {
        path: `/drive/v3/files/zz${encoded}echo`,
      });
      expect(answer.status).toBe(400);
      expect(jsonOf(answer)?.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
      expect(answer.body).not.toContain("echo");
      expect(answer.body).not.toContain("FST_");
    },
  );
});
