import { randomBytes } from "node:crypto";
import { CompactSign, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newSetKey,
  postSet,
  RISC_ISSUER,
  setClaims,
  signSet,
  unsignedSet,
  userSubject,
} from "./support/risc-google.js";
import { type RiscSetup, startRiscSetup } from "./support/risc-steward.js";

let risc: RiscSetup;
let sub: string;

beforeAll(async () => {
  risc = await startRiscSetup();
  sub = await risc.signIn("risc-forged@example.com");
}, 120_000);
afterAll(() => risc?.close());

/** The claims of a revocation a forger would like Steward to act on. */
const revocation = (overrides = {}) =>
  setClaims(risc.audience, { type: "tokens-revoked", body: userSubject(sub) }, overrides);

/**
 * POSTs `token` and expects 400 `security_event_invalid` with nothing changed: the user's
 * credential active, no jti recorded, no audit entry, no webhook queued.
 */
async function expectRefused(token: string, rule: string): Promise<void> {
  const before = await risc.snapshot();
  const logged = risc.steward.logs().length;
  const answer = await postSet(risc.steward.url, token);
  expect(answer).toEqual({
    status: 400,
    body: {
      error: {
        code: "security_event_invalid",
        message: expect.stringContaining("security event token is invalid"),
      },
    },
  });
  // Refused for the rule the case is about, as the log's detail says.
  const refusal = risc.steward
    .logs()
    .slice(logged)
    .split("\n")
    .find((line) => line.includes("request refused"));
  expect(JSON.parse(refusal ?? "{}").detail).toBe(rule);
  expect(await risc.snapshot()).toEqual(before);
  const { status } = await risc.admin(`/v1/users/${sub}/access-token`);
  expect(status).toBe(200);
}

describe("forged security event tokens are refused with 400 and change nothing", () => {
  it("a genuine SET is acted on (the control case: the refusals below are not for other reasons)", async () => {
    const control = await risc.signIn("risc-forged-control@example.com");
    const token = await signSet(
      setClaims(risc.audience, { type: "sessions-revoked", body: userSubject(control) }),
      risc.google.key,
    );
    expect((await postSet(risc.steward.url, token)).status).toBe(202);
  });

  it("signed by another key under the published kid (bad signature)", async () => {
    await expectRefused(
      await signSet(revocation(), newSetKey(), risc.google.key.kid),
      "the signature does not verify",
    );
  });

  it("signed by another key under a kid Google does not publish (unknown kid)", async () => {
    await expectRefused(await signSet(revocation(), newSetKey()), "no published key has its kid");
  });

  it("for another audience", async () => {
    await expectRefused(
      await signSet(
        revocation({ aud: "999999999999-other-app.apps.googleusercontent.com" }),
        risc.google.key,
      ),
      "aud is not one of our client IDs",
    );
  });

  it("from another issuer, even Google's other spelling (the discovery issuer is compared exactly)", async () => {
    expect(RISC_ISSUER).toBe("https://accounts.google.com/");
    await expectRefused(
      await signSet(revocation({ iss: "https://accounts.google.com" }), risc.google.key),
      "iss is not the discovery document's issuer",
    );
    await expectRefused(
      await signSet(revocation({ iss: "https://evil.example/" }), risc.google.key),
      "iss is not the discovery document's issuer",
    );
  });

  it("unsigned (alg: none)", async () => {
    await expectRefused(
      unsignedSet(revocation(), risc.google.key.kid),
      "the algorithm is not RS256",
    );
  });

  it("HMAC-signed (HS256) under the published kid", async () => {
    const token = await new SignJWT(revocation())
      .setProtectedHeader({ alg: "HS256", kid: risc.google.key.kid })
      .sign(randomBytes(32));
    await expectRefused(token, "the algorithm is not RS256");
  });

  it("malformed: not a JWS, a payload that is not JSON, or no jti", async () => {
    await expectRefused("not-a-jwt", "the body is not a compact JWS");
    const notJson = await new CompactSign(new TextEncoder().encode("not json"))
      .setProtectedHeader({ alg: "RS256", kid: risc.google.key.kid })
      .sign(risc.google.key.privateKey);
    await expectRefused(notJson, "the payload is not JSON");
    const { jti: _jti, ...withoutJti } = revocation();
    await expectRefused(
      await signSet(withoutJti, risc.google.key),
      "jti is missing or not a short string",
    );
  });

  it("signed, but with a NUL in jti or in an attribute (text the database cannot hold): 400, never 500", async () => {
    await expectRefused(
      await signSet(revocation({ jti: "AB\u0000CD" }), risc.google.key),
      "jti is missing or not a short string",
    );
    const disabled = setClaims(risc.audience, {
      type: "account-disabled",
      body: { ...userSubject(sub), reason: "hijacking\u0000" },
    });
    await expectRefused(
      await signSet(disabled, risc.google.key),
      "an event's reason is not a short string",
    );
  });

  it("a body over 16 KiB is refused with 413 payload_too_large, and changes nothing", async () => {
    const before = await risc.snapshot();
    const token = await signSet(revocation({ padding: "x".repeat(17 * 1024) }), risc.google.key);
    expect(await postSet(risc.steward.url, token)).toMatchObject({
      status: 413,
      body: { error: { code: "payload_too_large" } },
    });
    expect(await risc.snapshot()).toEqual(before);
  });

  it("a replayed jti after the first delivery is acknowledged (202) and changes nothing", async () => {
    const other = await risc.signIn("risc-forged-replay@example.com");
    const token = await signSet(
      setClaims(risc.audience, {
        type: "account-credential-change-required",
        body: userSubject(other),
      }),
      risc.google.key,
    );
    expect((await postSet(risc.steward.url, token)).status).toBe(202);
    const before = await risc.snapshot();
    expect(await postSet(risc.steward.url, token)).toEqual({
      status: 202,
      body: { duplicate: true },
    });
    expect(await risc.snapshot()).toEqual(before);
  });
});
