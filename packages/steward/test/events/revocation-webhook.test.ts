import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../src/index.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "../server/helpers.js";
import { outboxRows } from "./support/outbox-database.js";
import { type Receiver, startReceiver, waitUntil } from "./support/receiver.js";

const SECRET = randomBytes(32).toString("base64url");
let hooks: Receiver;
let steward: TestService;

beforeAll(async () => {
  hooks = await startReceiver();
  steward = await startTestService({
    STEWARD_WEBHOOK_URL: `${hooks.url}/steward-events`,
    STEWARD_WEBHOOK_SECRET: SECRET,
  });
}, 120_000);
afterAll(async () => {
  await steward?.close();
  await hooks?.close();
});

describe("a user removes access in their Google Account", () => {
  it("the next call gives credential_revoked, the credential is marked, one signed webhook fires, with no token", async () => {
    const { google } = steward;
    // Access tokens that die at once, so the next call must refresh and meet the revocation.
    await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 2 });
    const { serverAuthCode, sub } = await sdkSignIn(google, {
      email: "leaver@example.com",
      scopes: ["https://www.googleapis.com/auth/drive.appdata"],
    });
    expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
    await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
    const stored = await steward.service.vault.store.getCredential(sub);
    const tokens = [stored?.refreshToken, stored?.accessToken].filter(
      (token): token is string => typeof token === "string" && token.length > 0,
    );
    expect(tokens).toHaveLength(2);

    expect((await control(google, "POST", `/emulator/users/${sub}/revoke`, {})).status).toBe(200);
    await expect(steward.service.tokens.accessToken(sub)).rejects.toMatchObject({
      code: "credential_revoked",
    });
    // Queued with the revocation itself, not after it: a crash now would lose nothing.
    const queued = await steward.service.vault.database.db
      .selectFrom("webhook_outbox")
      .select("payload")
      .where("type", "=", "credential.revoked")
      .execute();
    expect(queued.map((row) => row.payload)).toEqual([{ sub, reason: "invalid_grant" }]);
    await expect(steward.service.tokens.accessToken(sub)).rejects.toMatchObject({
      code: "credential_revoked",
    });
    expect(await steward.service.vault.store.getCredential(sub)).toMatchObject({
      status: "revoked",
      revokedReason: "invalid_grant",
    });

    const revocations = () =>
      hooks.requests.filter((request) => {
        const event = JSON.parse(request.body);
        return event.type === "credential.revoked" && event.data.sub === sub;
      });
    await waitUntil(() => revocations().length > 0, "the credential.revoked webhook");
    // Once: a second call found the credential revoked and announced nothing new.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(revocations()).toHaveLength(1);

    const [request] = revocations() as [(typeof hooks.requests)[number]];
    expect(request.path).toBe("/steward-events");
    const event = verifyWebhookSignature(SECRET, request.headers, request.body);
    expect(event).toEqual({
      id: request.headers["steward-webhook-id"],
      type: "credential.revoked",
      createdAt: expect.any(String),
      data: { sub, reason: "invalid_grant" },
    });
    expect(() => verifyWebhookSignature(`${SECRET}x`, request.headers, request.body)).toThrowError(
      expect.objectContaining({ code: "webhook_signature_invalid" }),
    );

    // No token anywhere: not in any delivery, the outbox, nor the logs (nor the secret).
    const everything = [
      ...hooks.requests.map((received) => JSON.stringify(received)),
      JSON.stringify(await outboxRows(steward.service.vault.database.db)),
    ].join("\n");
    for (const token of tokens) {
      expect(everything).not.toContain(token);
      expect(steward.logs()).not.toContain(token);
    }
    expect(steward.logs()).not.toContain(SECRET);
    const rows = await outboxRows(steward.service.vault.database.db);
    const row = rows.find((candidate) => candidate.event_id === event.id);
    expect(row).toMatchObject({ type: "credential.revoked", attempts: 1, last_error: null });
    expect(row?.delivered_at).toBeInstanceOf(Date);
  });
});
