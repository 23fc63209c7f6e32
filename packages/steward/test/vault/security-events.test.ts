// Google's security events (RISC) in the vault: recorded once per jti, in one transaction with
// everything they change, so that an event answered 202 is never half done nor done twice.
// Real PostgreSQL (embedded).
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { SecurityEventRecord } from "../../src/store/index.js";
import type { Vault } from "../../src/vault/index.js";
import { breakOutbox, freshVaults } from "./support/fresh-vaults.js";
import { seededSub, seededTokens } from "./support/seed.js";

const vaults = freshVaults();

/** A tokens-revoked record for `sub`, as the receiver builds it. */
function tokensRevoked(jti: string, sub: string): SecurityEventRecord {
  return {
    jti,
    eventTypes: ["https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked"],
    sub,
    revocations: [
      {
        sub,
        reason: "risc_tokens_revoked",
        audit: { type: "credential.revoked", sub, actor: "google_risc", data: { jti } },
        events: [{ event: "credential.revoked", payload: { sub, reason: "risc_tokens_revoked" } }],
      },
    ],
    accountStates: [{ sub, disabled: { reason: "hijacking" } }],
    audit: [{ type: "risc.tokens_revoked", sub, actor: "google_risc", data: { jti } }],
    events: [{ event: "risc.account_disabled", payload: { sub, reason: "hijacking" } }],
  };
}

/** Everything a record could change. */
async function state(vault: Vault) {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT
      (SELECT count(*)::int FROM risc_events) AS risc_events,
      (SELECT count(*)::int FROM audit_events) AS audit_events,
      (SELECT count(*)::int FROM webhook_outbox) AS outbox,
      (SELECT count(*)::int FROM credentials WHERE status = 'active') AS active,
      (SELECT count(*)::int FROM users WHERE account_disabled_at IS NOT NULL) AS disabled`.execute(
    vault.database.db,
  );
  return rows[0];
}

describe("security events in the vault", () => {
  it("records a jti once: the record's changes are made, and a second record with it changes nothing", async () => {
    const vault = await vaults.withUsers(1, true);
    const sub = seededSub(0);

    expect(await vault.store.recordSecurityEvent(tokensRevoked("J1", sub))).toEqual({
      revoked: [sub],
      flagged: [sub],
    });
    expect(await vault.store.hasSecurityEvent("J1")).toBe(true);
    expect(await state(vault)).toEqual({
      risc_events: 1,
      audit_events: 2,
      outbox: 2,
      active: 0,
      disabled: 1,
    });
    const before = await state(vault);

    expect(await vault.store.recordSecurityEvent(tokensRevoked("J1", sub))).toBeUndefined();
    expect(await state(vault)).toEqual(before);
  });

  it("commits the jti with its changes or not at all: a failed outbox write leaves no jti, no revocation, no flag, no audit", async () => {
    const vault = await vaults.withUsers(1, true);
    const sub = seededSub(0);
    const before = await state(vault);
    await breakOutbox(vault);

    await expect(vault.store.recordSecurityEvent(tokensRevoked("J2", sub))).rejects.toThrow(
      /outbox refused/,
    );

    expect(await state(vault)).toEqual(before);
    expect(await vault.store.hasSecurityEvent("J2")).toBe(false);
    expect((await vault.store.getCredential(sub))?.status).toBe("active");
  });

  it("a revocation of a named token is skipped when the locked row's refresh token no longer matches", async () => {
    const vault = await vaults.withUsers(1, false);
    const sub = seededSub(0);
    const record = tokensRevoked("J3", sub);

    const outcome = await vault.store.recordSecurityEvent({
      ...record,
      revocations: record.revocations.map((revocation) => ({
        ...revocation,
        refreshTokenMatches: (token: string) => token === "1//0another-grant",
      })),
    });

    expect(outcome?.revoked).toEqual([]);
    expect((await vault.store.getCredential(sub))?.status).toBe("active");
    expect(await vault.store.hasSecurityEvent("J3")).toBe(true);
  });

  it("finds the credentials whose refresh token matches, across pages of active credentials", async () => {
    const vault = await vaults.withUsers(1_203, false);
    const wanted = new Set([seededTokens(7).refreshToken, seededTokens(1_202).refreshToken]);
    await vault.store.markRevoked(seededSub(7), "invalid_grant");

    const found = await vault.store.findRefreshTokens((token) => wanted.has(token));

    // Number 7 is revoked (its token erased): only the active one is found.
    expect(found).toEqual([seededSub(1_202)]);
  });
});
