import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { undiciFetch } from "../../src/oauth/http.js";

let server: Server;
let base: string;
const seen: { method?: string; type?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      seen.push({ method: request.method, type: request.headers["content-type"], body });
      if (request.url === "/redirect") {
        response.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" }).end();
      } else if (request.url === "/cookies") {
        response.writeHead(200, { "set-cookie": ["a=1", "b=2"], "content-type": "text/plain" });
        response.end("ok");
      } else if (request.url === "/hang") {
        // never answers
      } else {
        response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const options = (extra: object = {}) => ({
  method: "POST" as const,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "1//x y" }),
  redirect: "manual" as const,
  signal: AbortSignal.timeout(2_000),
  ...extra,
});

describe("undiciFetch (oauth4webapi's HTTP)", () => {
  it("posts the form and answers a Response oauth4webapi can read", async () => {
    const response = await undiciFetch()(`${base}/token`, options());
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({
      method: "POST" as const,
      type: "application/x-www-form-urlencoded",
      body: "grant_type=refresh_token&refresh_token=1%2F%2Fx+y",
    });
  });

  it("follows no redirect and keeps every value of a repeated header", async () => {
    const redirect = await undiciFetch()(`${base}/redirect`, options());
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("http://127.0.0.1:1/elsewhere");
    const cookies = await undiciFetch()(`${base}/cookies`, options());
    expect(cookies.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it("gives up when the request's timeout fires, and refuses a body that is not a form", async () => {
    await expect(
      undiciFetch()(`${base}/hang`, options({ signal: AbortSignal.timeout(100) })),
    ).rejects.toThrow();
    await expect(
      undiciFetch()(`${base}/token`, options({ body: new Uint8Array([1]) })),
    ).rejects.toThrow(TypeError);
  });
});
