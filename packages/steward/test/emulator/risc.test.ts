import { createHash, generateKeyPairSync } from "node:crypto";
import type { Emulator } from "@steward/emulator";
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  RISC_MANAGEMENT_AUDIENCE,
  riscManagementJwt,
  type ServiceAccountKey,
} from "../../src/google/service-account-key.js";
import { type Receiver, startReceiver, waitUntil } from "../events/support/receiver.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const PUSH = "https://schemas.openid.net/secevent/risc/delivery-method/push";
const URIS: Record<string, string> = {
  "sessions-revoked": "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked",
  "tokens-revoked": "https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked",
  "token-revoked": "https://schemas.openid.net/secevent/oauth/event-type/token-revoked",
  "account-disabled": "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
  "account-enabled": "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
  "account-credential-change-required":
    "https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required",
  verification: "https://schemas.openid.net/secevent/risc/event-type/verification",
};

let google: Emulator;
let receiver: Receiver;
let users = 0;

beforeAll(async () => {
  google = await withEmulator();
  await control(google, "PUT", "/emulator/settings", { riscRetryBaseMs: 20, riscMaxAttempts: 8 });
});
afterAll(() => google?.close());
afterEach(() => receiver?.close());

/** A user signed in with offline access: their sub and refresh token. */
async function signedInUser(): Promise<{ sub: string; refreshToken: string }> {
  users += 1;
  const { serverAuthCode, sub } = await sdkSignIn(google, { email: `risc${users}@example.com` });
  const { body } = await exchangeCode(google, serverAuthCode);
  return { sub, refreshToken: body.refresh_token };
}

async function sendEvent(body: Record<string, unknown>) {
  return control(google, "POST", "/emulator/risc/events", body);
}

/** Verifies a SET as a receiver does: keys and issuer from the discovery document. */
async function verifySet(set: string, audience: string | string[] = google.defaultClient.clientId) {
  const discovery = await (await fetch(`${google.url}/.well-known/risc-configuration`)).json();
  return jwtVerify(set, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
    issuer: discovery.issuer,
    audience,
    algorithms: ["RS256"],
  });
}

async function delivered(id: string) {
  let delivery: any;
  await waitUntil(async () => {
    delivery = (await control(google, "GET", `/emulator/risc/deliveries/${id}`)).body;
    return delivery.status !== "pending";
  }, `delivery ${id}`);
  return delivery;
}

describe("RISC discovery", () => {
  it("serves Google's risc-configuration with its issuer and the emulator's own JWKS", async () => {
    const response = await fetch(`${google.url}/.well-known/risc-configuration`);
    expect(response.status).toBe(200);
    const discovery = await response.json();
    expect(discovery).toMatchObject({
      issuer: "https://accounts.google.com/",
      jwks_uri: `${google.url}/oauth2/v3/certs`,
      delivery_methods_supported: [PUSH],
      add_subject_endpoint: `${google.url}/v1beta/subjects:add`,
      remove_subject_endpoint: `${google.url}/v1beta/subjects:remove`,
    });
  });
});

describe("POST /emulator/risc/events", () => {
  it("pushes a SET like Google's, signed RS256 by a key at the discovery jwks_uri", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub } = await signedInUser();
    const sent = await sendEvent({
      sub,
      type: "account-disabled",
      reason: "hijacking",
      receiverUrl: `${receiver.url}/v1/risc`,
    });
    expect(sent.status).toBe(202);
    expect(sent.body.deliveries).toHaveLength(1);
    await waitUntil(() => receiver.requests.length === 1, "the SET");
    const request = receiver.requests[0] as (typeof receiver.requests)[0];
    expect(request.path).toBe("/v1/risc");
    expect(request.headers["content-type"]).toBe("application/secevent+jwt");

    const { payload, protectedHeader } = await verifySet(request.body);
    const keys = (await control(google, "GET", "/oauth2/v3/certs")).body.keys;
    expect(protectedHeader).toEqual({ alg: "RS256", kid: keys[0].kid, typ: "secevent+jwt" });
    expect(payload).toEqual({
      iss: "https://accounts.google.com/",
      aud: google.defaultClient.clientId,
      iat: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
      events: {
        [URIS["account-disabled"] as string]: {
          subject: { subject_type: "iss-sub", iss: "https://accounts.google.com/", sub },
          reason: "hijacking",
        },
      },
    });
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(600);
    expect(payload.exp).toBeUndefined();
    expect(await delivered(sent.body.deliveries[0].id)).toMatchObject({
      status: "delivered",
      attempts: 1,
      lastStatus: 202,
      jti: payload.jti,
    });
  });

  it("maps each short type name to its event URI, accepts the URI itself, and gives each SET its own jti", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const jtis = new Set<string>();
    for (const [name, uri] of Object.entries(URIS)) {
      for (const type of [name, uri]) {
        const { sub } = await signedInUser();
        const sent = await sendEvent({ sub, type, receiverUrl: receiver.url, state: "s1" });
        expect(sent.status, type).toBe(202);
        const delivery = await delivered(sent.body.deliveries[0].id);
        const { payload } = await verifySet(delivery.set);
        expect(Object.keys(payload.events as object), type).toEqual([uri]);
        jtis.add(payload.jti as string);
      }
    }
    expect(jtis.size).toBe(Object.keys(URIS).length * 2);
    const unknown = await sendEvent({
      sub: "1",
      type: "account-purged",
      receiverUrl: receiver.url,
    });
    expect(unknown.status).toBe(400);
  });

  it("token-revoked names the refresh token by its 16-character prefix by default, and revokes it here", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub, refreshToken } = await signedInUser();
    const sent = await sendEvent({ sub, type: "token-revoked", receiverUrl: receiver.url });
    expect(sent.status).toBe(202);
    const { payload } = await verifySet((await delivered(sent.body.deliveries[0].id)).set);
    expect(payload.events).toEqual({
      [URIS["token-revoked"] as string]: {
        subject: {
          subject_type: "oauth_token",
          token_type: "refresh_token",
          token_identifier_alg: "prefix",
          token: refreshToken.slice(0, 16),
        },
      },
    });
    const refresh = await refreshWith(refreshToken);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe("invalid_grant");
  });

  it("token-revoked with hash_base64_sha512_sha512 sends base64 of SHA-512(SHA-512(token))", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub, refreshToken } = await signedInUser();
    const sent = await sendEvent({
      sub,
      type: "token-revoked",
      tokenIdentifierAlg: "hash_base64_sha512_sha512",
      receiverUrl: receiver.url,
    });
    const { payload } = await verifySet((await delivered(sent.body.deliveries[0].id)).set);
    const inner = createHash("sha512").update(refreshToken, "utf8").digest();
    const expected = createHash("sha512").update(inner).digest("base64");
    expect(expected).toMatch(/=$/);
    expect((payload.events as any)[URIS["token-revoked"] as string].subject).toMatchObject({
      token_identifier_alg: "hash_base64_sha512_sha512",
      token: expected,
    });
  });

  it("tokens-revoked ends the user's grant here too, one SET per client the user granted", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const other = await control(google, "POST", "/emulator/clients", { type: "web" });
    const { sub, refreshToken } = await signedInUser();
    const { serverAuthCode } = await sdkSignIn(google, {
      email: `risc${users}@example.com`,
      clientId: other.body.clientId,
    });
    const exchanged = await postForm(`${google.url}/token`, {
      grant_type: "authorization_code",
      code: serverAuthCode,
      client_id: other.body.clientId,
      client_secret: other.body.clientSecret,
      redirect_uri: "",
    });
    expect(exchanged.status).toBe(200);
    const sent = await sendEvent({ sub, type: "tokens-revoked", receiverUrl: receiver.url });
    expect(sent.status).toBe(202);
    const audiences = sent.body.deliveries.map(
      (delivery: { audience: string }) => delivery.audience,
    );
    expect(audiences.sort()).toEqual([google.defaultClient.clientId, other.body.clientId].sort());
    for (const delivery of sent.body.deliveries) {
      const { payload } = await verifySet((await delivered(delivery.id)).set, delivery.audience);
      expect(payload.aud).toBe(delivery.audience);
    }
    expect((await refreshWith(refreshToken)).status).toBe(400);
    const grants = (await control(google, "GET", `/emulator/users/${sub}/grants`)).body.grants;
    expect(grants.every((grant: { revoked: boolean }) => grant.revoked)).toBe(true);
  });

  it("redelivers with backoff until a receiver that failed twice answers 202, the same SET each time", async () => {
    receiver = await startReceiver({ answer: (_request, index) => [500, 503][index] ?? 202 });
    const { sub } = await signedInUser();
    const sent = await sendEvent({ sub, type: "sessions-revoked", receiverUrl: receiver.url });
    const delivery = await delivered(sent.body.deliveries[0].id);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastStatus: 202 });
    expect(receiver.requests.map((request) => request.headers["content-type"])).toEqual(
      Array(3).fill("application/secevent+jwt"),
    );
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((request) => request.body)).size).toBe(1);
    // The waits doubled from the base set above (20 ms).
    expect(delivery.retryDelaysMs).toEqual([20, 40]);
  });

  it("gives a delivery up after riscMaxAttempts attempts without a 2xx", async () => {
    await control(google, "PUT", "/emulator/settings", { riscMaxAttempts: 2 });
    try {
      receiver = await startReceiver({ answer: () => 500 });
      const { sub } = await signedInUser();
      const sent = await sendEvent({ sub, type: "account-enabled", receiverUrl: receiver.url });
      expect(await delivered(sent.body.deliveries[0].id)).toMatchObject({
        status: "failed",
        attempts: 2,
        lastStatus: 500,
      });
      expect(receiver.requests).toHaveLength(2);
    } finally {
      await control(google, "PUT", "/emulator/settings", { riscMaxAttempts: 8 });
    }
  });

  it("redeliver sends the same SET (same jti) again, for duplicate-jti tests", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub } = await signedInUser();
    const sent = await sendEvent({ sub, type: "sessions-revoked", receiverUrl: receiver.url });
    const first = await delivered(sent.body.deliveries[0].id);
    const again = await control(google, "POST", `/emulator/risc/deliveries/${first.id}/redeliver`);
    expect(again.status).toBe(202);
    expect((await delivered(again.body.id)).jti).toBe(first.jti);
    expect(receiver.requests.map((request) => request.body)).toEqual([first.set, first.set]);
  });

  it("refuses bad requests and changes nothing", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub, refreshToken } = await signedInUser();
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ type: "tokens-revoked", receiverUrl: receiver.url }, 400],
      [{ sub: "0", type: "tokens-revoked", receiverUrl: receiver.url }, 404],
      [{ sub, type: "tokens-revoked", receiverUrl: "http://example.com/risc" }, 400],
      [{ sub, type: "tokens-revoked", receiverUrl: "file:///etc/passwd" }, 400],
      [{ sub, type: "tokens-revoked", clientId: "nobody", receiverUrl: receiver.url }, 409],
    ];
    for (const [body, status] of cases) {
      expect((await sendEvent(body)).status, JSON.stringify(body)).toBe(status);
    }
    expect((await refreshWith(refreshToken)).status).toBe(200);
    expect(receiver.requests).toHaveLength(0);
  });

  it("is a control route: a POST from another origin is refused", async () => {
    receiver = await startReceiver({ answer: () => 202 });
    const { sub } = await signedInUser();
    const response = await fetch(`${google.url}/emulator/risc/events`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ sub, type: "sessions-revoked", receiverUrl: receiver.url }),
    });
    expect(response.status).toBe(403);
    expect(receiver.requests).toHaveLength(0);
  });
});

describe("RISC management API", () => {
  let key: ServiceAccountKey;
  let keyJson: any;

  beforeAll(async () => {
    const issued = await control(google, "POST", "/emulator/service-accounts", {
      name: "risc-admin",
    });
    expect(issued.status).toBe(201);
    keyJson = issued.body;
    key = {
      clientEmail: keyJson.client_email,
      privateKeyId: keyJson.private_key_id,
      privateKey: keyJson.private_key,
    };
  });

  async function manage(method: string, path: string, body?: unknown, token?: string) {
    const bearer = token ?? (await riscManagementJwt(key));
    const response = await fetch(`${google.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  it("issues a service-account key file shaped like Google's", () => {
    expect(keyJson).toMatchObject({
      type: "service_account",
      project_id: "steward-emulator",
      private_key_id: expect.stringMatching(/^[0-9a-f]{40}$/),
      private_key: expect.stringContaining("-----BEGIN PRIVATE KEY-----"),
      client_email: "risc-admin@steward-emulator.iam.gserviceaccount.com",
      client_id: expect.stringMatching(/^\d{21}$/),
      token_uri: `${google.url}/token`,
    });
  });

  it("configures, reads, disables, enables and verifies the stream with a good JWT", async () => {
    expect(await manage("GET", "/v1beta/stream")).toEqual({
      status: 404,
      body: expect.objectContaining({
        error: expect.objectContaining({
          code: 404,
          message: "Project has no RISC configuration.",
        }),
      }),
    });
    receiver = await startReceiver({ answer: () => 202 });
    const config = {
      delivery: { delivery_method: PUSH, url: `${receiver.url}/v1/risc` },
      events_requested: Object.values(URIS),
    };
    const updated = await manage("POST", "/v1beta/stream:update", config);
    expect(updated.status).toBe(200);
    expect(await manage("GET", "/v1beta/stream")).toEqual({
      status: 200,
      body: { ...config, events_delivered: config.events_requested },
    });
    expect(await manage("GET", "/v1beta/stream/status")).toEqual({
      status: 200,
      body: { status: "enabled" },
    });

    // Without receiverUrl, an event goes to the stream's receiver.
    const { sub } = await signedInUser();
    const sent = await sendEvent({ sub, type: "sessions-revoked" });
    expect(sent.status).toBe(202);
    expect(sent.body.deliveries[0].receiverUrl).toBe(`${receiver.url}/v1/risc`);
    await delivered(sent.body.deliveries[0].id);

    const disabled = await manage("POST", "/v1beta/stream/status:update", { status: "disabled" });
    expect(disabled).toEqual({ status: 200, body: { status: "disabled" } });
    expect((await sendEvent({ sub, type: "sessions-revoked" })).status).toBe(409);
    expect((await manage("POST", "/v1beta/stream:verify", { state: "off" })).status).toBe(200);
    await manage("POST", "/v1beta/stream/status:update", { status: "enabled" });

    const verified = await manage("POST", "/v1beta/stream:verify", { state: "ping-42" });
    expect(verified).toEqual({ status: 200, body: {} });
    // One verification SET per client of the project; none was sent while disabled.
    const clients = (await control(google, "GET", "/emulator/clients")).body.clients;
    await waitUntil(() => receiver.requests.length === 1 + clients.length, "the verification SETs");
    const audiences = [];
    for (const request of receiver.requests.slice(1)) {
      const { payload } = await verifySet(
        request.body,
        clients.map((c: any) => c.clientId),
      );
      expect(payload.events).toEqual({ [URIS.verification as string]: { state: "ping-42" } });
      audiences.push(payload.aud);
    }
    expect(audiences.sort()).toEqual(clients.map((c: any) => c.clientId).sort());
  });

  it("answers Google's errors for a bad stream configuration", async () => {
    const url = "https://steward.example.com/v1/risc";
    const cases: Array<[unknown, number, string]> = [
      [{ events_requested: [] }, 400, "Stream configuration must contain delivery field."],
      [
        { delivery: { delivery_method: PUSH, url } },
        400,
        "Stream configuration must contain events_requested field.",
      ],
      [
        { delivery: { delivery_method: PUSH }, events_requested: [] },
        400,
        "Stream configuration must contain url field.",
      ],
      [
        {
          delivery: { delivery_method: PUSH, url: "http://steward.example.com/v1/risc" },
          events_requested: [],
        },
        403,
        "The delivery endpoint must use HTTPS.",
      ],
    ];
    const before = await manage("GET", "/v1beta/stream");
    for (const [body, status, message] of cases) {
      const answer = await manage("POST", "/v1beta/stream:update", body);
      expect(answer.status, message).toBe(status);
      expect(answer.body.error.message).toBe(message);
    }
    expect(await manage("GET", "/v1beta/stream")).toEqual(before);
  });

  it("refuses a missing, forged, expired, over-long or misaddressed JWT with 401, and a caller without the role with 403", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: otherKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const sign = (claims: JWTPayload, options: { kid?: string; privateKey?: unknown } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: options.kid ?? key.privateKeyId })
        .sign((options.privateKey as never) ?? otherKey);
    const good = {
      iss: key.clientEmail,
      sub: key.clientEmail,
      aud: RISC_MANAGEMENT_AUDIENCE,
      iat: now,
      exp: now + 3600,
    };
    const { importPKCS8 } = await import("jose");
    const own = await importPKCS8(key.privateKey, "RS256");
    const tokens: Record<string, string> = {
      "signed by another key": await sign(good),
      "unknown kid": await sign(good, { kid: "0".repeat(40), privateKey: own }),
      "wrong audience": await sign(
        { ...good, aud: "https://risc.googleapis.com/" },
        { privateKey: own },
      ),
      "wrong issuer": await sign({ ...good, iss: "someone@example.com" }, { privateKey: own }),
      expired: await sign({ ...good, iat: now - 7200, exp: now - 3600 }, { privateKey: own }),
      "lives over an hour": await sign({ ...good, exp: now + 7200 }, { privateKey: own }),
      "not a JWT": "garbage",
    };
    expect(decodeProtectedHeader(await sign(good, { privateKey: own })).kid).toBe(key.privateKeyId);
    expect(
      (
        await manage(
          "GET",
          "/v1beta/stream/status",
          undefined,
          await sign(good, { privateKey: own }),
        )
      ).status,
    ).not.toBe(401);
    for (const [what, token] of Object.entries(tokens)) {
      const answer = await manage("GET", "/v1beta/stream", undefined, token);
      expect(answer.status, what).toBe(401);
      expect(answer.body.error.status, what).toBe("UNAUTHENTICATED");
    }
    const bare = await fetch(`${google.url}/v1beta/stream`);
    expect(bare.status).toBe(401);

    const weak = (await control(google, "POST", "/emulator/service-accounts", { riscAdmin: false }))
      .body;
    const weakToken = await riscManagementJwt({
      clientEmail: weak.client_email,
      privateKeyId: weak.private_key_id,
      privateKey: weak.private_key,
    });
    const refused = await manage(
      "POST",
      "/v1beta/stream:update",
      { delivery: { delivery_method: PUSH, url: "https://x.example/risc" }, events_requested: [] },
      weakToken,
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.status).toBe("PERMISSION_DENIED");
  });
});

function refreshWith(refreshToken: string) {
  return postForm(`${google.url}/token`, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: google.defaultClient.clientId,
    client_secret: google.defaultClient.clientSecret as string,
  });
}
