import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulatorEndpoints } from "../../src/google/endpoints.js";
import { createOAuthClient } from "../../src/oauth/client.js";
import { TokenManager } from "../../src/tokens/token-manager.js";
import { control } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";

const DAY_MS = 86_400_000;
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());

/** Another instance of the token manager whose clock runs `aheadMs` ahead, as the emulator's. */
const warnings: string[] = [];
function managerAhead(aheadMs: number) {
  return new TokenManager({
    logger: { warn: (_fields, message) => warnings.push(message), error: () => {} },
    store: steward.service.vault.store,
    oauth: createOAuthClient({
      endpoints: emulatorEndpoints(steward.google.url),
      clientId: steward.service.client.clientId,
      clientSecret: steward.service.client.clientSecret,
      timeoutSeconds: 5,
    }),
    events: steward.service.events,
    now: () => Date.now() + aheadMs,
  });
}

function revocationsOf(sub: string): { events: unknown[]; off: () => void } {
  const events: unknown[] = [];
  const off = steward.service.events.on(
    "credential.revoked",
    (event) => event.sub === sub && events.push(event),
  );
  return { events, off };
}

// Sign-ins come before the emulator's clock moves: its ID tokens would be from the future.
describe("a grant that dies seven days after issue", () => {
  it("is not flagged when it dies at another age", async () => {
    const sub = await signInThroughService(steward, "revoked-early@example.com");
    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    const revoked = revocationsOf(sub);
    await expect(managerAhead(7 * DAY_MS + 2 * DAY_MS).accessToken(sub)).rejects.toMatchObject({
      code: "credential_revoked",
    });
    revoked.off();
    expect(revoked.events).toEqual([{ sub, reason: "invalid_grant" }]);
  });

  it("is flagged as a likely Testing-mode app: in the event and the audit", async () => {
    await control(steward.google, "PUT", "/emulator/settings", { publishingStatus: "testing" });
    const tester = await signInThroughService(steward, "seven-days@example.com");
    // Signed in while published: the same week passes without harm.
    await control(steward.google, "PUT", "/emulator/settings", { publishingStatus: "production" });
    const published = await signInThroughService(steward, "published@example.com");
    await control(steward.google, "POST", "/emulator/clock", { advanceSeconds: 7 * 86_400 });

    const tokens = managerAhead(7 * DAY_MS);
    const revoked = revocationsOf(tester);
    await expect(tokens.accessToken(tester)).rejects.toMatchObject({ code: "credential_revoked" });
    revoked.off();
    expect(revoked.events).toEqual([
      { sub: tester, reason: "invalid_grant", likelyCause: "testing_mode_expiry" },
    ]);
    const audit = await steward.service.vault.store.listAuditEvents({ sub: tester });
    expect(audit.find((event) => event.type === "credential.revoked")?.data).toMatchObject({
      reason: "invalid_grant",
      likelyCause: "testing_mode_expiry",
    });
    expect(warnings.join("\n")).toContain("is the OAuth consent screen still in Testing?");

    await expect(tokens.accessToken(published)).resolves.toMatchObject({
      token: expect.any(String),
    });
  });
});
