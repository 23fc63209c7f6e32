// Regression: revoking a user's grant (admin revoke, DELETE /v1/me/connection, the library's
// revoke) did not take the user's lock, and wrote its audit event apart from the revocation. A
// sign-in storing a new refresh token between the revocation at Google and the marking was
// left a live grant at Google that Steward had marked revoked. The revocation now waits for the
// user's lock, revokes whatever is stored when it gets it, and audits in the same transaction.
import { sql } from "kysely";
import { expect, it } from "vitest";
import { signInThroughService } from "../server/helpers.js";
import { lockRace } from "./support/lock-race.js";
import { ADMIN_TOKEN } from "./support.js";

const { steward, race, expectRevokedAtGoogle } = lockRace();

it("a refresh token stored while a revocation waits for the user's lock is revoked at Google too", async () => {
  const { sub, response, newRefreshToken } = await race(
    "revocation-race@example.com",
    (sub, admin) =>
      fetch(`${steward().url}/v1/users/${sub}/revoke`, { method: "POST", headers: admin }),
  );
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ revokedAtGoogle: true });
  const { store } = steward().service.vault;
  expect((await store.getCredential(sub))?.status).toBe("revoked");
  // One audit event, written with the revocation, saying Google was told.
  const audit = (await store.listAuditEvents({ sub })).filter(
    (event) => event.type === "credential.revoked",
  );
  expect(audit.map((event) => event.data)).toEqual([
    { reason: expect.any(String), revokedAtGoogle: true },
  ]);
  // What was marked revoked was revoked: Google no longer honours the token the sign-in stored.
  await expectRevokedAtGoogle(newRefreshToken);
});

it("a credential no key opens is not revocable at Google, and is marked revoked all the same", async () => {
  const sub = await signInThroughService(steward(), "revocation-corrupt@example.com");
  const { store, database } = steward().service.vault;
  await sql`UPDATE credentials
    SET refresh_token = set_byte(refresh_token, length(refresh_token) - 1,
                                 get_byte(refresh_token, length(refresh_token) - 1) # 1)
    WHERE sub = ${sub}`.execute(database.db);
  const response = await fetch(`${steward().url}/v1/users/${sub}/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ revokedAtGoogle: false });
  expect(await store.getUser(sub)).toMatchObject({ credential: { status: "revoked" } });
  const audit = (await store.listAuditEvents({ sub })).filter(
    (event) => event.type === "credential.revoked",
  );
  expect(audit.map((event) => event.data)).toEqual([
    { reason: expect.any(String), revokedAtGoogle: false },
  ]);
});
