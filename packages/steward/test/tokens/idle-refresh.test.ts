import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulatorEndpoints } from "../../src/google/endpoints.js";
import { createOAuthClient } from "../../src/oauth/client.js";
import { IdleRefresh } from "../../src/tokens/idle-refresh.js";
import { TokenManager } from "../../src/tokens/token-manager.js";
import { control } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";

const DAY_MS = 86_400_000;
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());

/** Another instance's token manager, its clock `aheadMs` ahead as the emulator's is. */
function managerAhead(aheadMs: number) {
  return new TokenManager({
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

describe("the idle refresh and Google's six-month expiry", () => {
  // Before the emulator's clock moves: its ID tokens would then be from the future.
  it("picks only grants idle past the threshold", async () => {
    const fresh = await signInThroughService(steward, "fresh@example.com");
    const idle = await steward.service.vault.store.listIdleCredentials(
      new Date(Date.now() - DAY_MS),
      100,
    );
    expect(idle).not.toContain(fresh);
    expect(
      await steward.service.vault.store.listIdleCredentials(new Date(Date.now() + DAY_MS), 100),
    ).toContain(fresh);
  });

  it("refreshes one grant at a time: a step while one runs does nothing", async () => {
    const idle = new IdleRefresh({
      store: steward.service.vault.store,
      tokens: steward.service.tokens,
      idleMs: -DAY_MS,
      perMinute: 60,
    });
    await control(steward.google, "DELETE", "/emulator/stats");
    const steps = await Promise.all([idle.step(), idle.step(), idle.step()]);
    expect(steps.filter((sub) => sub !== undefined)).toHaveLength(1);
    const stats = (await control(steward.google, "GET", "/emulator/stats")).body;
    expect(stats.grants.refresh_token).toBe(1);
  });

  it("keeps a grant idle for months alive; one left idle dies at six months, revoked and audited", async () => {
    const kept = await signInThroughService(steward, "kept-alive@example.com");
    const left = await signInThroughService(steward, "left-idle@example.com");
    await control(steward.google, "POST", "/emulator/clock", { advanceSeconds: 150 * 86_400 });

    const tokens = managerAhead(150 * DAY_MS);
    const idle = new IdleRefresh({
      store: steward.service.vault.store,
      tokens,
      idleMs: 30 * DAY_MS,
      perMinute: 1,
      now: () => Date.now() + 150 * DAY_MS,
    });
    await control(steward.google, "DELETE", "/emulator/stats");
    // The longest idle first: the previous test's user, then `kept`; `left` waits its turn.
    const stepped = [await idle.step(), await idle.step()];
    expect(stepped).toContain(kept);
    expect(stepped).not.toContain(left);
    const stats = (await control(steward.google, "GET", "/emulator/stats")).body;
    expect(stats.grantsBySub[kept]?.refresh_token).toBe(1);
    expect(stats.grantsBySub[left]).toBeUndefined();
    const refreshed = await steward.service.vault.store.getCredential(kept);
    expect(refreshed?.lastRefreshAt?.getTime()).toBeGreaterThan(Date.now() + 149 * DAY_MS);
    idle.stop();

    // Six months and more after the sign-ins, 40 days after the idle refresh.
    await control(steward.google, "POST", "/emulator/clock", { advanceSeconds: 40 * 86_400 });
    const later = managerAhead(190 * DAY_MS);
    const hour = { minValidityMs: 2 * 3_600_000 };
    await expect(later.accessToken(kept, hour)).resolves.toMatchObject({
      token: expect.any(String),
    });
    await expect(later.accessToken(left, hour)).rejects.toMatchObject({
      code: "credential_revoked",
    });
    expect(await steward.service.vault.store.getCredential(left)).toMatchObject({
      status: "revoked",
      revokedReason: "invalid_grant",
    });
    const audit = await steward.service.vault.store.listAuditEvents({ sub: left });
    const revoked = audit.find((event) => event.type === "credential.revoked");
    expect(revoked?.data).toEqual({ reason: "invalid_grant", discoveredBy: "refresh" });
  });
});
