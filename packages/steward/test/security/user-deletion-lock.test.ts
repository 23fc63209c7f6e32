// Regression: deleting a user did not take the user's lock. A sign-in storing a new refresh
// token between the deletion's revocation at Google and its erasure was erased unrevoked: a
// live grant at Google that Steward no longer knew. The deletion now waits for the user's lock
// and revokes whatever is stored when it gets it.
import { expect, it } from "vitest";
import { lockRace } from "./support/lock-race.js";

const { steward, race, expectRevokedAtGoogle } = lockRace();

it("a refresh token stored while a deletion waits for the user's lock is revoked at Google too", async () => {
  const { sub, response, newRefreshToken } = await race("deletion-race@example.com", (sub, admin) =>
    fetch(`${steward().url}/v1/users/${sub}`, { method: "DELETE", headers: admin }),
  );
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ revokedAtGoogle: true });
  expect(await steward().service.vault.store.getUser(sub)).toBeUndefined();
  // What was erased was revoked: Google no longer honours the token the sign-in stored.
  await expectRevokedAtGoogle(newRefreshToken);
});
