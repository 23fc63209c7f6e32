// Regression: a revocation discovered during a refresh (Google answers invalid_grant) marked the
// credential revoked but left no trace in the audit log, unlike every other revocation. It is
// now recorded in the transaction that marks the credential.
import { afterAll, beforeAll, expect, it } from "vitest";
import { control } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";

const ADMIN_TOKEN = "admin-token-for-refresh-revocation-0123456789";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);
afterAll(() => steward?.close());

const call = (path: string) =>
  fetch(`${steward.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

it("a grant found revoked by a refresh lands in the audit log as credential.revoked", async () => {
  // Tokens living 1 s: the next access refreshes at Google.
  const sub = await signInThroughService(steward, "refresh-revoked@example.com", {
    ttlSeconds: 1,
  });
  // The user removes the app's access in their Google Account.
  await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});

  const token = await call(`/v1/users/${sub}/access-token`);
  expect(token.status).toBe(409);
  expect((await token.json()).error.code).toBe("credential_revoked");

  const { events } = await (await call(`/v1/audit-events?sub=${sub}`)).json();
  const revocations = events.filter(
    (event: { type: string }) => event.type === "credential.revoked",
  );
  expect(revocations).toEqual([
    expect.objectContaining({
      sub,
      actor: "system",
      data: { reason: "invalid_grant", discoveredBy: "refresh" },
    }),
  ]);
  // A second access finds it revoked already: no second record.
  expect((await call(`/v1/users/${sub}/access-token`)).status).toBe(409);
  const again = (await (await call(`/v1/audit-events?sub=${sub}`)).json()).events;
  expect(
    again.filter((event: { type: string }) => event.type === "credential.revoked"),
  ).toHaveLength(1);
});
