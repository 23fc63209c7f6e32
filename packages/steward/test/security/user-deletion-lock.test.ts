// Regression: deleting a user did not take the user's lock. A sign-in storing a new refresh
// token between the deletion's revocation at Google and its erasure was erased unrevoked: a
// live grant at Google that Steward no longer knew. The deletion now waits for the user's lock
// and revokes whatever is stored when it gets it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { exchangeCode, postForm, sdkSignIn } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { waitingForAdvisoryLock } from "./support.js";

const ADMIN_TOKEN = "admin-token-for-deletion-lock-0123456789";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);
afterAll(() => steward?.close());

it("a refresh token stored while a deletion waits for the user's lock is revoked at Google too", async () => {
  const email = "deletion-race@example.com";
  const sub = await signInThroughService(steward, email);
  const { google } = steward;
  let deletion: Promise<Response> | undefined;
  let newRefreshToken = "";

  // The test holds the user's lock, as a sign-in in progress does.
  await steward.service.vault.store.withCredentialLock(sub, async (locked) => {
    let answered = false;
    deletion = fetch(`${steward.url}/v1/users/${sub}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    void deletion.finally(() => {
      answered = true;
    });
    // The deletion waits for the lock (or, when it takes none, is done already).
    await waitUntil(
      async () => answered || (await waitingForAdvisoryLock(steward)),
      "the deletion to wait for the lock or answer",
    );
    // Meanwhile the sign-in completes: Google grants again, and the new token is stored.
    const { serverAuthCode } = await sdkSignIn(google, { email, prompt: "consent" });
    const exchanged = await exchangeCode(google, serverAuthCode);
    newRefreshToken = exchanged.body.refresh_token;
    expect(newRefreshToken).toEqual(expect.any(String));
    await locked.recordRefresh({
      accessToken: exchanged.body.access_token,
      expiresAt: new Date(Date.now() + 3_600_000),
      refreshToken: newRefreshToken,
    });
  });

  const response = await (deletion as Promise<Response>);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ revokedAtGoogle: true });
  expect(await steward.service.vault.store.getUser(sub)).toBeUndefined();
  // What was erased was revoked: Google no longer honours the token the sign-in stored.
  const refreshed = await postForm(`${google.url}/token`, {
    grant_type: "refresh_token",
    refresh_token: newRefreshToken,
    client_id: google.defaultClient.clientId,
    client_secret: google.defaultClient.clientSecret as string,
  });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe("invalid_grant");
});
