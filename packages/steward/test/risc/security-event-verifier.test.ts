import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { isStewardError } from "../../src/errors.js";
import { SecurityEventVerifier } from "../../src/risc/security-event-verifier.js";
import {
  newSetKey,
  RISC_ISSUER,
  type SetKey,
  setClaims,
  signSet,
  userSubject,
} from "../security/support/risc-google.js";

const AUDIENCE = "1234-app.apps.googleusercontent.com";

/** A loopback RISC discovery document and key set, counting fetches, that can go down. */
interface FakeRisc {
  readonly configurationUrl: string;
  readonly fetches: { configuration: number; keys: number };
  keys: SetKey[];
  up: boolean;
  close(): Promise<void>;
}

let running: Server | undefined;
afterEach(async () => {
  running?.closeAllConnections();
  await new Promise<void>((resolve) => (running ? running.close(() => resolve()) : resolve()));
  running = undefined;
});

async function fakeRisc(keys: SetKey[], configurationMaxAge = 3600): Promise<FakeRisc> {
  const fake = {
    fetches: { configuration: 0, keys: 0 },
    keys,
    up: true,
  } as FakeRisc & { configurationUrl: string };
  const server = createServer(async (request, response) => {
    if (!fake.up) return response.writeHead(503).end();
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (request.url === "/.well-known/risc-configuration") {
      fake.fetches.configuration++;
      response.writeHead(200, {
        "content-type": "application/json",
        "cache-control": `max-age=${configurationMaxAge}`,
      });
      return response.end(JSON.stringify({ issuer: RISC_ISSUER, jwks_uri: `${base}/keys` }));
    }
    fake.fetches.keys++;
    const jwks = await Promise.all(
      fake.keys.map(async (key) => ({
        ...(await exportJWK(key.publicKey)),
        kid: key.kid,
        alg: "RS256",
        use: "sig",
      })),
    );
    response.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "max-age=3600",
    });
    response.end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  running = server;
  fake.configurationUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/risc-configuration`;
  return fake;
}

const setBy = (key: SetKey) =>
  signSet(setClaims(AUDIENCE, { type: "sessions-revoked", body: userSubject("42") }), key);

async function failure(promise: Promise<unknown>): Promise<{ code: string; detail?: string }> {
  try {
    await promise;
  } catch (error) {
    if (isStewardError(error)) return { code: error.code, detail: error.detail };
    throw error;
  }
  throw new Error("expected a failure");
}

describe("SecurityEventVerifier", () => {
  it("fetches the discovery document and the keys once for many SETs while they are fresh", async () => {
    const key = newSetKey();
    const risc = await fakeRisc([key]);
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE]);

    for (let i = 0; i < 5; i++) {
      expect((await verifier.verify(await setBy(key))).events[0]?.kind).toBe("sessions-revoked");
    }

    expect(risc.fetches).toEqual({ configuration: 1, keys: 1 });
  });

  it("fetches the keys again for an unknown kid once the cooldown allows, and finds a rotated-in key", async () => {
    const old = newSetKey();
    const rotated = newSetKey();
    const risc = await fakeRisc([old]);
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE], {
      cooldownMs: 0,
    });
    await verifier.verify(await setBy(old));
    risc.keys = [rotated, old];

    await verifier.verify(await setBy(rotated));

    expect(risc.fetches.keys).toBe(2);
  });

  it("does not fetch the keys again for an unknown kid within the cooldown: the SET is refused", async () => {
    const key = newSetKey();
    const risc = await fakeRisc([key]);
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE]);
    await verifier.verify(await setBy(key));

    expect(await failure(verifier.verify(await setBy(newSetKey())))).toEqual({
      code: "security_event_invalid",
      detail: "no published key has its kid",
    });
    expect(risc.fetches.keys).toBe(1);
  });

  it("answers upstream_unavailable while no discovery document was ever had, then works once it is up", async () => {
    const key = newSetKey();
    const risc = await fakeRisc([key]);
    risc.up = false;
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE], {
      cooldownMs: 0,
    });

    expect((await failure(verifier.verify(await setBy(key)))).code).toBe("upstream_unavailable");
    risc.up = true;
    await verifier.verify(await setBy(key));
  });

  it("does not ask for the discovery document again within the cooldown after a failed first fetch", async () => {
    const key = newSetKey();
    const risc = await fakeRisc([key]);
    risc.up = false;
    let now = Date.now();
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE], {
      now: () => now,
    });
    expect((await failure(verifier.verify(await setBy(key)))).code).toBe("upstream_unavailable");
    risc.up = true;

    expect((await failure(verifier.verify(await setBy(key)))).code).toBe("upstream_unavailable");
    expect(risc.fetches.configuration).toBe(0);
    now += 30_000;
    await verifier.verify(await setBy(key));
    expect(risc.fetches.configuration).toBe(1);
  });

  it("keeps verifying with the cached discovery document and keys when a re-fetch of the stale document fails", async () => {
    const key = newSetKey();
    const risc = await fakeRisc([key], 1);
    let now = Date.now();
    const verifier = new SecurityEventVerifier(risc.configurationUrl, [AUDIENCE], {
      now: () => now,
    });
    await verifier.verify(await setBy(key));
    now += 5_000;
    risc.up = false;

    await verifier.verify(await setBy(key));

    expect(risc.fetches.configuration).toBe(1);
  });

  it("refuses to be built without an audience", () => {
    expect(() => new SecurityEventVerifier("http://127.0.0.1:1/x", [])).toThrow(TypeError);
  });
});
