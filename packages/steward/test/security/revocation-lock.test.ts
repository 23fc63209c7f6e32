// Regression: revoking a user's grant (admin revoke, DELETE /v1/me/connection, the library's
// revoke) did not take the user's lock, and wrote its audit event apart from the revocation. A
// sign-in storing a new refresh token between the revocation at Google and the marking was
// left a live grant at Google that Steward had marked revoked. The revocation now waits for the
// user's lock, revokes whatever is stored when it gets it, and audits in the same transaction.
import { afterAll, beforeAll, expect, it } from "vitest";
import { exchangeCode, postForm, sdkSignIn } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { waitingForAdvisoryLock } from "./support.js";

const ADMIN_TOKEN = "admin-token-for-revocation-lock-0123456789";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);
afterAll(() => steward?.close());

it("a refresh token stored while a revocation waits for the user's lock is revoked at Google too", async () => {
  const email = "revocation-race@example.com";
  const sub = await signInThroughService(steward, email);
  const { google } = steward;
  let revocation: Promise<Response> | undefined;
  let newRefreshToken = "";

  // The test holds the user's lock, as a sign-in in progress does.
  await steward.service.vault.store.withCredentialLock(sub, async (locked) => {
    let answered = false;
    revocation = fetch(`${steward.url}/v1/users/${sub}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    void revocation.finally(() => {
      answered = true;
    });
    // The revocation waits for the lock (or, when it takes none, is done already).
    await waitUntil(
      async () => answered || (await waitingForAdvisoryLock(steward)),
      "the revocation to wait for the lock or answer",
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

  const response = await (revocation as Promise<Response>);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ revokedAtGoogle: true });
  const credential = await steward.service.vault.store.getCredential(sub);
  expect(credential?.status).toBe("revoked");
  // One audit event, written with the revocation, saying Google was told.
  const audit = (await steward.service.vault.store.listAuditEvents({ sub })).filter(
    (event) => event.type === "credential.revoked",
  );
  expect(audit.map((event) => event.data)).toEqual([
    { reason: expect.any(String), revokedAtGoogle: true },
  ]);
  // What was marked revoked was revoked: Google no longer honours the token the sign-in stored.
  const refreshed = await postForm(`${google.url}/token`, {
    grant_type: "refresh_token",
    refresh_token: newRefreshToken,
    client_id: google.defaultClient.clientId,
    client_secret: google.defaultClient.clientSecret as string,
  });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe("invalid_grant");
});
