import { afterAll, beforeAll, expect } from "vitest";
import { exchangeCode, postForm, sdkSignIn } from "../../emulator/helpers.js";
import { waitUntil } from "../../events/support/receiver.js";
import { signInThroughService, startTestService, type TestService } from "../../server/helpers.js";
import { refreshed } from "../../vault/support/locked-users.js";
import { ADMIN_TOKEN, waitingForAdvisoryLock } from "../support.js";

/**
 * The set-up of the lock regressions (revocation, deletion): a service with an admin token,
 * and the race they are about. `race` signs a user in, then holds the user's lock as a sign-in
 * in progress does, sends the admin request `send` builds, waits until it waits for the lock
 * (or has answered: one that takes no lock is done already), and completes the sign-in under
 * the lock: Google grants again and the new refresh token is stored. What the request did with
 * that token is what the test checks.
 */
export function lockRace() {
  let steward: TestService;
  beforeAll(async () => {
    steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  }, 120_000);
  afterAll(() => steward?.close());

  return {
    steward: () => steward,
    async race(
      email: string,
      send: (sub: string, admin: { authorization: string }) => Promise<Response>,
    ) {
      const sub = await signInThroughService(steward, email);
      const { google } = steward;
      let request: Promise<Response> | undefined;
      let newRefreshToken = "";
      await steward.service.vault.store.withLockedUsers(
        [sub],
        async (held) => {
          let answered = false;
          request = send(sub, { authorization: `Bearer ${ADMIN_TOKEN}` });
          void request.finally(() => {
            answered = true;
          });
          await waitUntil(
            async () => answered || (await waitingForAdvisoryLock(steward)),
            "the request to wait for the lock or answer",
          );
          const { serverAuthCode } = await sdkSignIn(google, { email, prompt: "consent" });
          const exchanged = await exchangeCode(google, serverAuthCode);
          newRefreshToken = exchanged.body.refresh_token;
          expect(newRefreshToken).toEqual(expect.any(String));
          await held.write([
            refreshed(sub, {
              accessToken: exchanged.body.access_token,
              expiresAt: new Date(Date.now() + 3_600_000),
              refreshToken: newRefreshToken,
            }),
          ]);
        },
        { wait: true },
      );
      return { sub, response: await (request as Promise<Response>), newRefreshToken };
    },
    /** Asserts Google no longer honours `refreshToken`: it was revoked there. */
    async expectRevokedAtGoogle(refreshToken: string) {
      const { google } = steward;
      const answer = await postForm(`${google.url}/token`, {
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: google.defaultClient.clientId,
        client_secret: google.defaultClient.clientSecret as string,
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe("invalid_grant");
    },
  };
}
