// With webhooks configured the store writes the events announcing a change to the webhook
// outbox in the change's own transaction: a change is never committed without its events (a
// crash between the two used to lose them), and events of a write that changed nothing are left
// out. Real PostgreSQL (embedded).
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { Vault } from "../../src/vault/index.js";
import { breakOutbox, freshVaults } from "./support/fresh-vaults.js";
import { seededSub } from "./support/seed.js";

const vaults = freshVaults();
/** A vault on a fresh database with `count` active credentials (subs `seededSub(i)`). */
const vaultWithUsers = (count: number, queueEvents = true) => vaults.withUsers(count, queueEvents);

async function outbox(vault: Vault) {
  return vault.database.db
    .selectFrom("webhook_outbox")
    .select(["type", "payload"])
    .orderBy("id")
    .execute();
}

const revoked = (sub: string) => ({
  event: "credential.revoked",
  payload: { sub, reason: "invalid_grant" },
});

describe("events written with the change they announce", () => {
  it("markRevoked queues its event with the revocation; nothing when no credential changed", async () => {
    const vault = await vaultWithUsers(1);
    const sub = seededSub(0);
    expect(await vault.store.markRevoked(sub, "invalid_grant", { events: [revoked(sub)] })).toBe(
      true,
    );
    expect(await outbox(vault)).toEqual([
      { type: "credential.revoked", payload: { sub, reason: "invalid_grant" } },
    ]);
    expect(
      await vault.store.markRevoked("nobody", "invalid_grant", { events: [revoked("x")] }),
    ).toBe(false);
    // A second revocation of the same user is not news: its event is not queued.
    expect(await vault.store.markRevoked(sub, "user_request", { events: [revoked(sub)] })).toBe(
      false,
    );
    expect(await outbox(vault)).toHaveLength(1);
  });

  it("a revocation whose event cannot be queued is not committed", async () => {
    const vault = await vaultWithUsers(1);
    const sub = seededSub(0);
    await breakOutbox(vault);
    await expect(
      vault.store.markRevoked(sub, "invalid_grant", { events: [revoked(sub)] }),
    ).rejects.toThrow(/outbox refused/);
    expect((await vault.store.getCredential(sub))?.status).toBe("active");
  });

  it("the outcomes of a write carry their events: every user's, in its transaction", async () => {
    const vault = await vaultWithUsers(30);
    const subs = Array.from({ length: 30 }, (_, i) => seededSub(i));
    const expiresAt = new Date(Date.now() + 3_600_000);
    // The first ten are revoked first: their refresh is then not kept, nor its event.
    await vault.store.withLockedUsers(subs.slice(0, 10), async (held) => {
      await held.write(
        held.locked.map((sub) => ({
          sub,
          outcome: { kind: "revoked", reason: "invalid_grant", events: [revoked(sub)] },
        })),
      );
    });
    await vault.store.withLockedUsers(subs, async (held) => {
      await held.write(
        held.locked.map((sub) => ({
          sub,
          outcome: {
            kind: "refreshed",
            result: { accessToken: `ya29.fresh-${sub}`, expiresAt },
            events: [{ event: "credential.refreshed", payload: { sub, expiresAt } }],
          },
        })),
      );
    });
    const rows = await outbox(vault);
    expect(rows.slice(0, 10).map((row) => row.payload.sub)).toEqual(subs.slice(0, 10));
    expect(rows.slice(10)).toEqual(
      subs.slice(10).map((sub) => ({
        type: "credential.refreshed",
        payload: { sub, expiresAt: expiresAt.toISOString() },
      })),
    );
  });

  it("a refresh whose event cannot be queued is not stored, and its lock is released", async () => {
    const vault = await vaultWithUsers(2);
    const [sub, other] = [seededSub(0), seededSub(1)];
    const before = await vault.store.getCredential(sub);
    await breakOutbox(vault);
    const expiresAt = new Date(Date.now() + 3_600_000);
    await vault.store.withLockedUsers([sub, other], async (held) => {
      await expect(
        held.write([
          {
            sub,
            outcome: {
              kind: "refreshed",
              result: { accessToken: "ya29.never-stored", expiresAt },
              events: [{ event: "credential.refreshed", payload: { sub, expiresAt } }],
            },
          },
        ]),
      ).rejects.toThrow(/outbox refused/);
    });
    expect((await vault.store.getCredential(sub))?.accessToken).toEqual(before?.accessToken);
    // Released: another holder takes the lock at once.
    await vault.store.withLockedUsers([sub], async (held) => {
      expect(held.locked).toEqual([sub]);
    });
  });

  it("saveCredential queues its events with a new grant, and refuses a malformed one", async () => {
    const vault = await vaultWithUsers(0);
    await vault.store.upsertUser({ sub: "42" });
    const created = {
      event: "credential.created",
      payload: { sub: "42", grantedScopes: ["openid"] },
    };
    await expect(
      vault.store.saveCredential({
        sub: "42",
        grantedScopes: ["openid"],
        refreshToken: "1//0refresh",
        events: [{ event: "", payload: {} }],
      }),
    ).rejects.toThrow(TypeError);
    await breakOutbox(vault);
    await expect(
      vault.store.saveCredential({
        sub: "42",
        grantedScopes: ["openid"],
        refreshToken: "1//0refresh",
        events: [created],
      }),
    ).rejects.toThrow(/outbox refused/);
    expect(await vault.store.getCredential("42")).toBeUndefined();
    await sql`DROP TRIGGER refuse_outbox ON webhook_outbox`.execute(vault.database.db);
    const saved = await vault.store.saveCredential({
      sub: "42",
      grantedScopes: ["openid"],
      refreshToken: "1//0refresh",
      events: [created],
    });
    expect(saved?.status).toBe("active");
    expect(await outbox(vault)).toEqual([{ type: created.event, payload: created.payload }]);
  });

  it("a store without webhooks queues nothing", async () => {
    const vault = await vaultWithUsers(1, false);
    const sub = seededSub(0);
    await breakOutbox(vault);
    expect(await vault.store.markRevoked(sub, "invalid_grant", { events: [revoked(sub)] })).toBe(
      true,
    );
  });
});
