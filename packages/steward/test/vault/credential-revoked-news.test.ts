// A credential that stops working (marked revoked or expired, its user deleted) is announced on
// CREDENTIAL_REVOKED_CHANNEL with its sub, by the statement that changes it: delivered on commit
// only, once per sub, and never for a refresh. Running services listen to forget cached tokens
// (a revocation by another process used to leave them handing out the dead token for an hour).
// Real PostgreSQL (embedded).
import { sql } from "kysely";
import { expect, it } from "vitest";
import { CREDENTIAL_REVOKED_CHANNEL } from "../../src/store/index.js";
import { waitUntil } from "../events/support/receiver.js";
import { breakOutbox, freshVaults } from "./support/fresh-vaults.js";
import { seededSub } from "./support/seed.js";

const vaults = freshVaults();

/**
 * A vault on a fresh database with `count` active credentials, and what its channel hears from
 * now on. `heard()` waits for everything sent before it, then returns the payloads.
 */
async function listenedVault(count: number, queueEvents = false) {
  const vault = await vaults.withUsers(count, queueEvents);
  const payloads: (string | undefined)[] = [];
  vaults.closeAfter(vault.database.listen(CREDENTIAL_REVOKED_CHANNEL, (sub) => payloads.push(sub)));
  let marks = 0;
  /** Sends a marker and waits for it: everything committed before it has been heard. */
  const mark = async () => {
    const marker = `mark-${++marks}`;
    await waitUntil(async () => {
      await sql`SELECT pg_notify(${CREDENTIAL_REVOKED_CHANNEL}, ${marker})`.execute(
        vault.database.db,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      return payloads.includes(marker);
    }, "the listener");
  };
  await mark();
  payloads.length = 0;
  return {
    vault,
    heard: async () => {
      await mark();
      return payloads.splice(0).filter((payload) => !payload?.startsWith("mark-"));
    },
  };
}

it("announces each credential a write revokes, once, and nothing for the refreshes beside it", async () => {
  const { vault, heard } = await listenedVault(4);
  const [refreshed, revoked, failed, expired] = [0, 1, 2, 3].map(seededSub) as [
    string,
    string,
    string,
    string,
  ];
  await vault.store.withLockedUsers([refreshed, revoked, failed, expired], async (held) => {
    // One write: one statement per kind.
    await held.write([
      {
        sub: refreshed,
        outcome: {
          kind: "refreshed",
          result: { accessToken: "ya29.fresh", expiresAt: new Date(Date.now() + 3_600_000) },
        },
      },
      { sub: revoked, outcome: { kind: "revoked", reason: "invalid_grant" } },
      { sub: failed, outcome: { kind: "failed", reasonCode: "upstream_unavailable" } },
      {
        sub: expired,
        outcome: { kind: "revoked", reason: "invalid_grant", status: "expired" },
      },
    ]);
  });
  expect((await heard()).sort()).toEqual([revoked, expired].sort());

  // A credential already dead is not news; a revocation through markRevoked is.
  expect(await vault.store.markRevoked(revoked, "user_request")).toBe(false);
  expect(await vault.store.markRevoked(failed, "user_request")).toBe(true);
  expect(await heard()).toEqual([failed]);
});

it("announces a deleted user, and nothing for a user who did not exist", async () => {
  const { vault, heard } = await listenedVault(1);
  expect(await vault.store.deleteUser("nobody")).toBe(false);
  expect(await vault.store.deleteUser(seededSub(0))).toBe(true);
  expect(await heard()).toEqual([seededSub(0)]);
});

it("says nothing of a revocation that did not commit", async () => {
  const { vault, heard } = await listenedVault(1, true);
  const sub = seededSub(0);
  // Every insert into the outbox fails: the revocation's transaction is rolled back.
  await breakOutbox(vault);
  await expect(
    vault.store.markRevoked(sub, "invalid_grant", {
      events: [{ event: "credential.revoked", payload: { sub, reason: "invalid_grant" } }],
    }),
  ).rejects.toThrow(/outbox refused/);
  expect(await heard()).toEqual([]);
  expect((await vault.store.getCredential(sub))?.status).toBe("active");
});
