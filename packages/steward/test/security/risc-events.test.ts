import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doubleSha512 } from "../../src/risc/token-identifier.js";
import { waitUntil } from "../events/support/receiver.js";
import {
  deliver,
  postSet,
  setClaims,
  signSet,
  tokenSubject,
  userSubject,
} from "./support/risc-google.js";
import { type RiscSetup, startRiscSetup } from "./support/risc-steward.js";

let risc: RiscSetup;

beforeAll(async () => {
  risc = await startRiscSetup();
}, 120_000);
afterAll(() => risc?.close());

const db = () => risc.steward.service.vault.database.db;

/** The user's access-token answer: 200 with a token while the grant lives, 409 once revoked. */
async function accessTokenStatus(sub: string): Promise<{ status: number; code?: string }> {
  const { status, body } = await risc.admin(`/v1/users/${sub}/access-token`);
  return { status, code: body?.error?.code };
}

async function auditOf(sub: string): Promise<Array<{ type: string; actor: string; data: any }>> {
  const { body } = await risc.admin(`/v1/audit-events?sub=${sub}`);
  return body.events;
}

async function storedEvent(jti: string) {
  const { rows } = await sql<{ jti: string; event_types: string[]; sub: string | null }>`
    SELECT jti, event_types, sub FROM risc_events WHERE jti = ${jti}`.execute(db());
  return rows[0];
}

const webhook = (type: string, sub: string) => () =>
  risc.webhooks().some((hook) => hook.type === type && hook.sub === sub);

describe("RISC events acted on for a signed-in user", () => {
  it("token-revoked by prefix revokes the credential holding that refresh token, and only it; no token part is stored", async () => {
    const target = await risc.signIn("risc-prefix@example.com");
    const bystander = await risc.signIn("risc-prefix-bystander@example.com");
    const prefix = (await risc.refreshTokenOf(target)).slice(0, 16);

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "token-revoked",
      body: tokenSubject("prefix", prefix),
    });

    expect(answer).toMatchObject({ status: 202, body: { duplicate: false } });
    expect(await accessTokenStatus(target)).toEqual({ status: 409, code: "credential_revoked" });
    expect(await accessTokenStatus(bystander)).toMatchObject({ status: 200 });
    const { body } = await risc.admin(`/v1/users/${target}`);
    expect(body.credential).toMatchObject({
      status: "revoked",
      revokedReason: "risc_token_revoked",
      offlineAccess: false,
    });
    expect(await auditOf(target)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: "credential.revoked",
          actor: "google_risc",
          data: expect.objectContaining({ reason: "risc_token_revoked", jti: answer.jti }),
        }),
        expect.objectContaining({ type: "risc.token_revoked", actor: "google_risc" }),
      ]),
    );
    expect(await storedEvent(answer.jti)).toEqual({
      jti: answer.jti,
      event_types: ["https://schemas.openid.net/secevent/oauth/event-type/token-revoked"],
      sub: target,
    });
    await waitUntil(webhook("credential.revoked", target), "the credential.revoked webhook");
    // The prefix is a part of a live token: it is kept nowhere, nor logged.
    const { rows } = await sql<{ text: string }>`
      SELECT (SELECT coalesce(string_agg(row_to_json(r)::text, ''), '') FROM risc_events r) ||
             (SELECT coalesce(string_agg(row_to_json(a)::text, ''), '') FROM audit_events a) ||
             (SELECT coalesce(string_agg(row_to_json(o)::text, ''), '') FROM webhook_outbox o) AS text`.execute(
      db(),
    );
    expect(rows[0]?.text).not.toContain(prefix);
    expect(risc.steward.logs()).not.toContain(prefix);
  });

  it("token-revoked by the double SHA-512 hash revokes the credential holding that refresh token, and only it", async () => {
    const target = await risc.signIn("risc-hash@example.com");
    const bystander = await risc.signIn("risc-hash-bystander@example.com");
    const hash = doubleSha512(await risc.refreshTokenOf(target));

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "token-revoked",
      body: tokenSubject("hash_base64_sha512_sha512", hash),
    });

    expect(answer.status).toBe(202);
    expect(await accessTokenStatus(target)).toEqual({ status: 409, code: "credential_revoked" });
    expect(await accessTokenStatus(bystander)).toMatchObject({ status: 200 });
    expect((await risc.admin(`/v1/users/${target}`)).body.credential.revokedReason).toBe(
      "risc_token_revoked",
    );
  });

  it("the double SHA-512 identifier is base64 (padded) of SHA-512 of SHA-512 of the token's UTF-8", () => {
    // Computed independently: python3 -c "import hashlib,base64;
    // print(base64.b64encode(hashlib.sha512(hashlib.sha512(b'1//0abc').digest()).digest()))"
    expect(doubleSha512("1//0abc")).toBe(
      "ma+LJ4N5uUthtEHdhbrBLSkt+NzN761mClr3UnGicjQFzpqK473ofUoBUqBWxcncrxxVpqdE3QbcWcnWjpszew==",
    );
  });

  it("tokens-revoked revokes the user's credential: access-token answers 409 credential_revoked and their jobs stop", async () => {
    const sub = await risc.signIn("risc-tokens@example.com");
    const ran: string[] = [];
    await risc.steward.service.jobs.define("risc-job", async ({ jobId }) => {
      ran.push(jobId);
    });

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "tokens-revoked",
      body: userSubject(sub),
    });

    expect(answer.status).toBe(202);
    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    const job = await risc.steward.service.jobs.enqueue("risc-job", sub, {});
    const deadline = Date.now() + 20_000;
    let state = await risc.steward.service.jobs.status(job);
    while (state?.state !== "failed" && state?.state !== "completed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await risc.steward.service.jobs.status(job);
    }
    expect(state).toMatchObject({ state: "failed", error: { code: "credential_revoked" } });
    expect(ran).toEqual([]);
    await waitUntil(webhook("credential.revoked", sub), "the credential.revoked webhook");
  });

  it("account-disabled with reason hijacking revokes the credential and flags the user in GET /v1/users/{sub}", async () => {
    const sub = await risc.signIn("risc-hijacked@example.com");

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "account-disabled",
      body: { ...userSubject(sub), reason: "hijacking" },
    });

    expect(answer.status).toBe(202);
    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    const { body } = await risc.admin(`/v1/users/${sub}`);
    expect(body.accountDisabled).toEqual({ at: expect.any(String), reason: "hijacking" });
    expect(body.credential).toMatchObject({
      status: "revoked",
      revokedReason: "risc_account_hijacked",
    });
    expect((await auditOf(sub)).map((event) => event.type)).toEqual(
      expect.arrayContaining(["risc.account_disabled", "credential.revoked"]),
    );
    await waitUntil(webhook("risc.account_disabled", sub), "the risc.account_disabled webhook");
    await waitUntil(webhook("credential.revoked", sub), "the credential.revoked webhook");
    expect(risc.webhooks().find((hook) => hook.type === "risc.account_disabled")?.data).toEqual({
      sub,
      reason: "hijacking",
    });
  });

  it("account-disabled with reason bulk-account flags the user but keeps the credential", async () => {
    const sub = await risc.signIn("risc-bulk@example.com");

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "account-disabled",
      body: { ...userSubject(sub), reason: "bulk-account" },
    });

    expect(answer.status).toBe(202);
    const { body } = await risc.admin(`/v1/users/${sub}`);
    expect(body.accountDisabled).toMatchObject({ reason: "bulk-account" });
    expect(body.credential.status).toBe("active");
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
  });

  it("account-enabled clears the disabled flag, and is recorded and announced", async () => {
    const sub = await risc.signIn("risc-enabled@example.com");
    await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "account-disabled",
      body: { ...userSubject(sub), reason: "hijacking" },
    });
    expect((await risc.admin(`/v1/users/${sub}`)).body.accountDisabled).not.toBeNull();

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "account-enabled",
      body: userSubject(sub),
    });

    expect(answer.status).toBe(202);
    const { body } = await risc.admin(`/v1/users/${sub}`);
    expect(body.accountDisabled).toBeNull();
    // Re-enabled at Google, but the revoked grant stays revoked: the user signs in again.
    expect(body.credential.status).toBe("revoked");
    expect((await auditOf(sub)).map((event) => event.type)).toContain("risc.account_enabled");
    await waitUntil(webhook("risc.account_enabled", sub), "the risc.account_enabled webhook");
  });

  it("sessions-revoked announces risc.sessions_revoked (bus and webhook) and leaves the credential active", async () => {
    const sub = await risc.signIn("risc-sessions@example.com");
    const heard: string[] = [];
    const stop = risc.steward.service.events.on("risc.sessions_revoked", (event) =>
      heard.push(event.sub),
    );

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "sessions-revoked",
      body: userSubject(sub),
    });
    stop();

    expect(answer.status).toBe(202);
    expect(heard).toEqual([sub]);
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
    expect((await auditOf(sub)).map((event) => event.type)).toContain("risc.sessions_revoked");
    await waitUntil(webhook("risc.sessions_revoked", sub), "the risc.sessions_revoked webhook");
  });

  it("account-credential-change-required is recorded and announced, the credential kept", async () => {
    const sub = await risc.signIn("risc-change@example.com");

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "account-credential-change-required",
      body: userSubject(sub),
    });

    expect(answer.status).toBe(202);
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
    expect(await auditOf(sub)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: "risc.credential_change_required",
          actor: "google_risc",
          data: { jti: answer.jti },
        }),
      ]),
    );
    await waitUntil(
      webhook("risc.credential_change_required", sub),
      "the risc.credential_change_required webhook",
    );
  });

  it("verification is logged and recorded in the audit log with its state", async () => {
    const state = "risc-verify-state-42";

    const answer = await deliver(risc.google, risc.steward.url, risc.audience, {
      type: "verification",
      body: { state },
    });

    expect(answer.status).toBe(202);
    const { body } = await risc.admin("/v1/audit-events?limit=20");
    expect(body.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "risc.verification", data: { jti: answer.jti, state } }),
      ]),
    );
    expect(risc.steward.logs()).toMatch(/RISC verification event received/);
    expect(risc.steward.logs()).toContain(state);
    expect((await storedEvent(answer.jti))?.sub).toBeNull();
  });

  it("a SET whose exp has passed is still acted on: SETs tell of past events, exp is not checked", async () => {
    const sub = await risc.signIn("risc-exp@example.com");
    const past = Math.floor(Date.now() / 1000) - 7200;

    const answer = await deliver(
      risc.google,
      risc.steward.url,
      risc.audience,
      { type: "tokens-revoked", body: userSubject(sub) },
      { iat: past - 3600, exp: past },
    );

    expect(answer.status).toBe(202);
    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
  });

  it("takes application/jwt as well as application/secevent+jwt, and refuses other media types with 415", async () => {
    const sub = await risc.signIn("risc-media@example.com");
    const token = await signSet(
      setClaims(risc.audience, { type: "sessions-revoked", body: userSubject(sub) }),
      risc.google.key,
    );
    const json = await postSet(risc.steward.url, JSON.stringify({ token }), "application/json");
    expect(json).toMatchObject({
      status: 415,
      body: { error: { code: "unsupported_media_type" } },
    });
    expect(await postSet(risc.steward.url, token, "application/jwt")).toMatchObject({
      status: 202,
    });
  });
});

describe("RISC SETs carrying several events", () => {
  it("acts on each event of one SET, and revokes (and announces the revocation) once", async () => {
    const sub = await risc.signIn("risc-two-events@example.com");
    const heard: string[] = [];
    const stop = risc.steward.service.events.on("credential.revoked", (event) => {
      if (event.sub === sub) heard.push(event.reason);
    });
    const events = {
      "https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked": userSubject(sub),
      "https://schemas.openid.net/secevent/risc/event-type/account-disabled": {
        ...userSubject(sub),
        reason: "hijacking",
      },
    };

    const answer = await deliver(
      risc.google,
      risc.steward.url,
      risc.audience,
      { type: "tokens-revoked", body: {} },
      { events },
    );
    stop();

    expect(answer.status).toBe(202);
    expect(heard).toEqual(["risc_tokens_revoked"]);
    const { body } = await risc.admin(`/v1/users/${sub}`);
    expect(body.accountDisabled).toMatchObject({ reason: "hijacking" });
    const types = (await auditOf(sub)).map((event) => event.type);
    expect(types.filter((type) => type === "credential.revoked")).toHaveLength(1);
    expect(types).toEqual(expect.arrayContaining(["risc.tokens_revoked", "risc.account_disabled"]));
    expect((await storedEvent(answer.jti))?.event_types).toEqual(Object.keys(events));
  });
});

describe("RISC de-duplication", () => {
  it("a duplicate jti is acknowledged with 202 and ignored: nothing is done again", async () => {
    const sub = await risc.signIn("risc-duplicate@example.com");
    const token = await signSet(
      setClaims(risc.audience, { type: "tokens-revoked", body: userSubject(sub) }),
      risc.google.key,
    );
    expect(await postSet(risc.steward.url, token)).toMatchObject({
      status: 202,
      body: { duplicate: false },
    });
    // The user consents again: a new grant, which a redelivery must not revoke.
    await risc.signIn("risc-duplicate@example.com", { prompt: "consent" });
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
    const before = await risc.snapshot();

    const again = await postSet(risc.steward.url, token);

    expect(again).toEqual({ status: 202, body: { duplicate: true } });
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
    expect(await risc.snapshot()).toEqual(before);
  });

  it("is described in the OpenAPI document: the SET media types and each answer's schema", async () => {
    const spec = await (await fetch(`${risc.steward.url}/docs/json`)).json();
    const route = spec.paths["/v1/risc"].post;
    expect(Object.keys(route.requestBody.content)).toEqual([
      "application/secevent+jwt",
      "application/jwt",
    ]);
    expect(Object.keys(route.responses)).toEqual(
      expect.arrayContaining(["202", "400", "413", "415", "429", "502"]),
    );
    expect(route.security).toBeUndefined();
  });

  it("reads issuer and jwks_uri from the RISC discovery document at the Google base URL", () => {
    expect(risc.google.served).toEqual(
      expect.arrayContaining(["/.well-known/risc-configuration", "/risc/test-keys"]),
    );
  });
});
