import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulatorEndpoints } from "../../src/google/endpoints.js";
import { createOAuthClient } from "../../src/oauth/client.js";
import { TokenManager } from "../../src/tokens/token-manager.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import {
  postCode,
  refreshGrantsOf,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";

const DAY_MS = 86_400_000;
const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService(
    { STEWARD_ADMIN_TOKEN: ADMIN_TOKEN },
    { rateLimitPerMinute: 100_000 },
  );
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

describe("Google's newest-100 refresh tokens per account and client", () => {
  it("the 101st sign-in kills the oldest token at Google; Steward keeps the newest, counts and warns", async () => {
    const email = "hundred-and-one@example.com";
    let sub = "";
    for (let i = 0; i < 101; i += 1) {
      // An app asking consent every time: each sign-in brings a new refresh token.
      const signIn = await sdkSignIn(steward.google, { email, prompt: "consent" });
      expect((await postCode(steward.url, { code: signIn.serverAuthCode })).status).toBe(200);
      sub = signIn.sub;
    }
    const grants = await control(steward.google, "GET", `/emulator/users/${sub}/grants`);
    const issued = grants.body.grants[0].refreshTokens as Array<{ revoked: boolean }>;
    expect(issued).toHaveLength(101);
    expect(issued.filter((token) => token.revoked)).toHaveLength(1);
    expect(issued[0]?.revoked).toBe(true);

    // Steward holds the newest: a refresh (forced by asking more life than a token has) works.
    await control(steward.google, "DELETE", "/emulator/stats");
    await expect(
      managerAhead(0).accessToken(sub, { minValidityMs: 2 * 3_600_000 }),
    ).resolves.toMatchObject({ token: expect.any(String) });
    expect(await refreshGrantsOf(steward, sub)).toBe(1);

    const view = await fetch(`${steward.url}/v1/users/${sub}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(view.status).toBe(200);
    expect((await view.json()).signIns).toEqual({ total: 101, withRefreshToken: 101 });
    expect(steward.logs()).toContain("brought over 50 refresh tokens");
  });

  it("counts a repeat sign-in without a new refresh token apart", async () => {
    const sub = await signInThroughService(steward, "twice@example.com");
    await signInThroughService(steward, "twice@example.com");
    const user = await steward.service.vault.store.getUser(sub);
    expect(user).toMatchObject({ signIns: 2, refreshTokenSignIns: 1 });
  });
});

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
