import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { boundaryOf, parseMultipart } from "../src/multipart.js";
import { exchangeCode, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;
let accessToken: string;

beforeAll(async () => {
  google = await withEmulator();
  const { serverAuthCode } = await sdkSignIn(google, {
    email: "batch@example.com",
    scopes: [APPDATA],
  });
  accessToken = (await exchangeCode(google, serverAuthCode)).body.access_token;
});
afterAll(() => google.close());

/** A batch body as Google's documentation writes one: CRLF, one application/http part per call. */
function batchBody(boundary: string, calls: { id: string; http: string }[]): string {
  const parts = calls.map(
    ({ id, http }) =>
      `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: ${id}\r\n\r\n${http}\r\n`,
  );
  return `${parts.join("")}--${boundary}--\r\n`;
}

async function sendBatch(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${google.url}/batch/drive/v3`, {
    method: "POST",
    headers: {
      "content-type": "multipart/mixed; boundary=batch_foobarbaz",
      authorization: `Bearer ${accessToken}`,
      ...headers,
    },
    body,
  });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    raw: await response.text(),
  };
}

/** The inner responses: Content-ID, status line, headers and JSON body of each part. */
function innerResponses(type: string | null, raw: string) {
  const boundary = boundaryOf(type ?? undefined, "multipart/mixed");
  expect(boundary).toBeDefined();
  const parsed = parseMultipart(Buffer.from(raw), boundary as string);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.parts.map((part) => {
    expect(part.headers["content-type"]).toBe("application/http");
    const text = part.body.toString();
    const [head, body] = text.split("\r\n\r\n", 2) as [string, string];
    const [statusLine, ...headerLines] = head.split("\r\n");
    return {
      contentId: part.headers["content-id"],
      statusLine,
      headers: headerLines.map((line) => line.toLowerCase()),
      body: JSON.parse(body),
    };
  });
}

describe("POST /batch/drive/v3", () => {
  it("runs each part through Drive and answers multipart/mixed with response-<id> parts in order", async () => {
    const create = JSON.stringify({ name: "batched.json", parents: ["appDataFolder"] });
    const { status, type, raw } = await sendBatch(
      batchBody("batch_foobarbaz", [
        {
          id: "<item1:12930812@example.com>",
          http: `POST /drive/v3/files?fields=id,name HTTP/1.1\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${create.length}\r\n\r\n${create}`,
        },
        // An absolute URL, as Google's own examples write, and no Authorization: the batch's applies.
        {
          id: "<item2:12930812@example.com>",
          http: "GET https://www.googleapis.com/drive/v3/files/appDataFolder?fields=name HTTP/1.1\r\n\r\n",
        },
        // A part with its own, wrong, Authorization fails alone.
        {
          id: "item3",
          http: "GET /drive/v3/files/appDataFolder HTTP/1.1\r\nAuthorization: Bearer ya29.wrong\r\n\r\n",
        },
        { id: "<item4>", http: "GET /drive/v3/files/no-such-file HTTP/1.1\r\n\r\n" },
      ]),
    );
    expect(status).toBe(200);
    expect(type).toMatch(/^multipart\/mixed; boundary=batch_/);
    const responses = innerResponses(type, raw);
    expect(responses.map((response) => [response.contentId, response.statusLine])).toEqual([
      ["<response-item1:12930812@example.com>", "HTTP/1.1 200 OK"],
      ["<response-item2:12930812@example.com>", "HTTP/1.1 200 OK"],
      ["response-item3", "HTTP/1.1 401 Unauthorized"],
      ["<response-item4>", "HTTP/1.1 404 Not Found"],
    ]);
    expect(responses[0]?.body).toEqual({ id: expect.any(String), name: "batched.json" });
    expect(responses[0]?.headers).toContain("content-type: application/json; charset=utf-8");
    expect(responses[1]?.body).toEqual({ name: "Application Data" });
    expect(responses[2]?.body.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
    expect(responses[3]?.body.error).toMatchObject({ code: 404 });
  });

  it("answers a part that is not a Drive call, or not application/http, with its own 400", async () => {
    const body =
      batchBody("batch_foobarbaz", [
        { id: "<a>", http: "GET /emulator/stats HTTP/1.1\r\n\r\n" },
        { id: "<b>", http: "not a request line\r\n\r\n" },
      ]).replace(/--batch_foobarbaz--\r\n$/, "") +
      "--batch_foobarbaz\r\nContent-Type: text/plain\r\nContent-ID: <c>\r\n\r\nhello\r\n--batch_foobarbaz--\r\n";
    const { status, type, raw } = await sendBatch(body);
    expect(status).toBe(200);
    const responses = innerResponses(type, raw);
    expect(responses.map((response) => [response.contentId, response.statusLine])).toEqual([
      ["<response-a>", "HTTP/1.1 400 Bad Request"],
      ["<response-b>", "HTTP/1.1 400 Bad Request"],
      ["<response-c>", "HTTP/1.1 400 Bad Request"],
    ]);
    expect(responses[0]?.body.error.code).toBe(400);
  });

  it("refuses more than 100 calls, and a body that is not multipart/mixed, with Google's 400", async () => {
    const calls = Array.from({ length: 101 }, (_, index) => ({
      id: `<${index}>`,
      http: "GET /drive/v3/files/appDataFolder HTTP/1.1\r\n\r\n",
    }));
    const tooMany = await sendBatch(batchBody("batch_foobarbaz", calls));
    expect(tooMany.status).toBe(400);
    expect(JSON.parse(tooMany.raw).error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    expect(JSON.parse(tooMany.raw).error.message).toMatch(/100/);

    const hundred = await sendBatch(batchBody("batch_foobarbaz", calls.slice(0, 100)));
    expect(hundred.status).toBe(200);
    expect(innerResponses(hundred.type, hundred.raw)).toHaveLength(100);

    const notMultipart = await sendBatch("{}", { "content-type": "application/json" });
    expect(notMultipart.status).toBe(400);
    expect(JSON.parse(notMultipart.raw).error.code).toBe(400);
  });
});
