// The emulator `npm start` runs on loopback is out of reach of web pages the developer visits:
// no DNS rebinding (a foreign Host), no cross-site form or no-cors POST to its control routes.
import { request } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, withEmulator } from "./helpers.js";

let google: Emulator;
beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google?.close());

/** A raw request, so the Host and Origin headers are what a browser could send. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(google.url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, method, path, headers }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

it("refuses a Host that is not a loopback name for this emulator (DNS rebinding)", async () => {
  const { port } = new URL(google.url);
  const rebound = await send("GET", "/emulator/clients", { host: `evil.example:${port}` });
  expect(rebound.status).toBe(403);
  expect(rebound.body).not.toContain("clientSecret");
  const otherPort = await send("GET", "/emulator/clients", { host: "127.0.0.1:1" });
  expect(otherPort.status).toBe(403);
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    expect((await send("GET", "/emulator/clients", { host })).status).toBe(200);
  }
});

it("refuses a cross-site form POST to a control route, and changes nothing", async () => {
  const { host } = new URL(google.url);
  const form = "path=%2Ftoken&status=500&times=1000";
  const forged = await send(
    "POST",
    "/emulator/faults",
    {
      host,
      origin: "https://evil.example",
      "content-type": "application/x-www-form-urlencoded",
      "content-length": String(form.length),
    },
    form,
  );
  expect(forged.status).toBe(403);
  const bodyless = await send("POST", "/emulator/keys/rotate", {
    host,
    origin: "https://evil.example",
  });
  expect(bodyless.status).toBe(403);
  // A path the router decodes to a control route is one.
  const encoded = await send(
    "POST",
    "/%65mulator/faults",
    {
      host,
      origin: "https://evil.example",
      "content-type": "application/x-www-form-urlencoded",
      "content-length": String(form.length),
    },
    form,
  );
  expect(encoded.status).toBe(403);
  // Nothing was injected: the token endpoint answers as usual (400 for an empty form).
  const token = await fetch(`${google.url}/token`, { method: "POST" });
  expect(token.status).toBe(400);
  // The emulator's own origin, and tools that send no Origin, still work.
  const own = await send("POST", "/emulator/keys/rotate", { host, origin: google.url });
  expect(own.status).toBe(200);
  expect((await control(google, "POST", "/emulator/keys/rotate")).status).toBe(200);
});

it("tells browsers not to sniff what it serves", async () => {
  const response = await fetch(`${google.url}/oauth2/v3/certs`);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
});
