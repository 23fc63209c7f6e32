import { spawn } from "node:child_process";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/index.js";
import { StewardError } from "../../src/errors.js";
import { EventBus, type StewardEvents } from "../../src/events/bus.js";
import { emulatorEndpoints } from "../../src/google/endpoints.js";
import { createOAuthClient } from "../../src/oauth/client.js";
import { LISTENER_APPLICATION_NAME } from "../../src/store/index.js";
import { TokenManager } from "../../src/tokens/token-manager.js";
import { openVault, type Vault } from "../../src/vault/index.js";
import { control } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import {
  refreshGrantsOf,
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";
import { refreshed } from "../vault/support/locked-users.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const DRIVE_FILE = "https://www.googleapis.com/auth/drive.file";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());
beforeEach(async () => {
  await control(steward.google, "DELETE", "/emulator/faults");
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
});

const userWithTokenLiving = (email: string, ttlSeconds: number) =>
  signInThroughService(steward, email, { ttlSeconds, scopes: [APPDATA] });
const refreshesOf = (sub: string) => refreshGrantsOf(steward, sub);

/** Resolves at the service's next `credential.refreshed` event for `sub`. */
function nextRefreshOf(sub: string): Promise<void> {
  return new Promise((resolve) => {
    const off = steward.service.events.on("credential.refreshed", (event) => {
      if (event.sub !== sub) return;
      off();
      resolve();
    });
  });
}
const tokenRequests = async () =>
  (await control(steward.google, "GET", "/emulator/stats")).body.requests["/token"] ?? 0;

/** A second manager on the same store, with a short timeout and quick retries. */
function manager(overrides: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}) {
  return new TokenManager({
    store: steward.service.vault.store,
    oauth: createOAuthClient({
      endpoints: emulatorEndpoints(steward.google.url),
      clientId: steward.service.client.clientId,
      clientSecret: steward.service.client.clientSecret,
      timeoutSeconds: 1,
    }),
    events: steward.service.events,
    retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    ...overrides,
  });
}

describe("TokenManager.accessToken", () => {
  it("refreshes an expired token exactly once for 200 concurrent callers", async () => {
    const sub = await userWithTokenLiving("storm@example.com", 2);
    const tokens = manager();
    const results = await Promise.all(Array.from({ length: 200 }, () => tokens.accessToken(sub)));
    expect(new Set(results.map((result) => result.token)).size).toBe(1);
    expect(results[0]?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect(await refreshesOf(sub)).toBe(1);
    // The fresh token was stored sealed: a cold manager (another instance) reuses it.
    expect((await manager().accessToken(sub)).token).toBe(results[0]?.token);
    expect(await refreshesOf(sub)).toBe(1);
  });

  it("serves a valid stored token from the cache without asking Google", async () => {
    const sub = await userWithTokenLiving("cached@example.com", 3599);
    const tokens = manager();
    const first = await tokens.accessToken(sub);
    expect((await tokens.accessToken(sub)).token).toBe(first.token);
    expect(await tokenRequests()).toBe(0);
  });

  it("refreshes ahead of expiry: hands out the valid token and refreshes in the background", async () => {
    const sub = await userWithTokenLiving("ahead@example.com", 240);
    let clock = Date.now();
    const tokens = manager({ refreshAheadMs: 100_000, now: () => clock });
    const first = await tokens.accessToken(sub);
    expect(first.expiresAt.getTime()).toBeLessThan(Date.now() + 241_000);
    expect(await refreshesOf(sub)).toBe(0);
    // 150 s later, under 100 s remain: the caller still gets the valid token at once...
    clock += 150_000;
    const refreshed = nextRefreshOf(sub);
    expect((await tokens.accessToken(sub)).token).toBe(first.token);
    // ...and the refresh happens behind it.
    await refreshed;
    const next = await tokens.accessToken(sub);
    expect(next.token).not.toBe(first.token);
    expect(await refreshesOf(sub)).toBe(1);
  });

  it("marks a dead grant revoked once, tells every waiter, and does not storm Google", async () => {
    const sub = await userWithTokenLiving("gone@example.com", 2);
    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    const revoked: unknown[] = [];
    const off = steward.service.events.on(
      "credential.revoked",
      (event) => event.sub === sub && revoked.push(event),
    );
    const tokens = manager();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => tokens.accessToken(sub)),
    );
    off();
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: "credential_revoked",
        status: 409,
      });
    }
    expect(revoked).toEqual([{ sub, reason: "invalid_grant" }]);
    expect(await tokenRequests()).toBe(1);
    expect(await steward.service.vault.store.getCredential(sub)).toMatchObject({
      status: "revoked",
      revokedReason: "invalid_grant",
    });
    await expect(tokens.accessToken(sub)).rejects.toMatchObject({ code: "credential_revoked" });
    expect(await tokenRequests()).toBe(1);
  });

  it.each([
    ["500 twice, then fine", { status: 500, times: 2 }],
    ["a dropped connection", { reset: true }],
    ["a hang past the timeout", { latencyMs: 1500 }],
  ])("still yields a token after %s", async (_case, fault) => {
    const sub = await userWithTokenLiving(`flaky-${Object.keys(fault).join("")}@example.com`, 2);
    await control(steward.google, "POST", "/emulator/faults", { path: "/token", ...fault });
    const token = await manager().accessToken(sub);
    expect(token.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it("gives upstream_unavailable within a bounded time in a lasting outage, and keeps the credential", async () => {
    const sub = await userWithTokenLiving("outage@example.com", 2);
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/token",
      status: 503,
      times: 1000,
    });
    const started = Date.now();
    await expect(manager().accessToken(sub)).rejects.toMatchObject({
      code: "upstream_unavailable",
      status: 502,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await tokenRequests()).toBe(3);
    expect(await steward.service.vault.store.getCredential(sub)).toMatchObject({
      status: "active",
      lastError: "upstream_unavailable",
    });
  });

  it("refuses a scope the user did not grant, and an unknown user", async () => {
    const sub = await userWithTokenLiving("scoped@example.com", 3599);
    const error = await manager()
      .accessToken(sub, { scopes: ["https://www.googleapis.com/auth/photoslibrary.appendonly"] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StewardError);
    expect(error).toMatchObject({ code: "scope_not_granted", status: 403 });
    await expect(manager().accessToken(sub, { scopes: [APPDATA, "email"] })).resolves.toBeDefined();
    await expect(manager().accessToken("404404404")).rejects.toMatchObject({
      code: "user_not_found",
    });
  });
});

describe("refreshing many users at once", () => {
  it("refreshes each expired user once, answering every caller with that user's token", async () => {
    // One at a time: each sign-in sets the emulator's token lifetime.
    const subs: string[] = [];
    for (let i = 0; i < 30; i++) subs.push(await userWithTokenLiving(`many-${i}@example.com`, 2));
    const tokens = manager();
    const calls = subs.flatMap((sub) => Array.from({ length: 5 }, () => ({ sub })));
    const results = await Promise.all(calls.map(({ sub }) => tokens.accessToken(sub)));
    const bySub = new Map<string, Set<string>>();
    results.forEach((result, i) => {
      const sub = calls[i]?.sub as string;
      bySub.set(sub, (bySub.get(sub) ?? new Set()).add(result.token));
    });
    expect([...bySub.values()].map((set) => set.size)).toEqual(subs.map(() => 1));
    expect(new Set(results.map((result) => result.token)).size).toBe(30);
    expect(await Promise.all(subs.map(refreshesOf))).toEqual(subs.map(() => 1));
    // Each fresh token was stored: a cold manager reuses them all.
    const cold = await Promise.all(subs.map((sub) => manager().accessToken(sub)));
    expect(cold.map((token) => token.token)).toEqual(
      subs.map((sub) => [...(bySub.get(sub) as Set<string>)][0]),
    );
    expect(await Promise.all(subs.map(refreshesOf))).toEqual(subs.map(() => 1));
  });

  it("two managers (two instances' worth of connections) refresh a crowd of users once each", async () => {
    const subs: string[] = [];
    for (let i = 0; i < 20; i++) subs.push(await userWithTokenLiving(`crowd-${i}@example.com`, 2));
    const [first, second] = [manager(), manager()];
    const [a, b] = await Promise.all([
      Promise.all(subs.map((sub) => first.accessToken(sub))),
      Promise.all(subs.map((sub) => second.accessToken(sub))),
    ]);
    expect(b.map((token) => token.token)).toEqual(a.map((token) => token.token));
    expect(await Promise.all(subs.map(refreshesOf))).toEqual(subs.map(() => 1));
  });

  it("does not hold the others up for a user another instance is refreshing, and reuses its token", async () => {
    const [held, other] = [
      await userWithTokenLiving("held@example.com", 2),
      await userWithTokenLiving("other@example.com", 2),
    ];
    let release: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let taken: () => void = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      taken = resolve;
    });
    const expiresAt = new Date(Date.now() + 3_600_000);
    const elsewhere = steward.service.vault.store.withLockedUsers(
      [held],
      async (locked) => {
        taken();
        await holding;
        await locked.write([refreshed(held, { accessToken: "ya29.from-elsewhere", expiresAt })]);
      },
      { wait: true },
    );
    await lockTaken;
    const tokens = manager();
    const heldToken = tokens.accessToken(held);
    const otherToken = await tokens.accessToken(other);
    expect(otherToken.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    release();
    await elsewhere;
    expect((await heldToken).token).toBe("ya29.from-elsewhere");
    expect(await refreshesOf(held)).toBe(0);
    expect(await refreshesOf(other)).toBe(1);
  });

  it("fails a user whose sealed token is corrupt alone, refreshing the rest of the batch", async () => {
    const [broken, fine] = [
      await userWithTokenLiving("broken@example.com", 2),
      await userWithTokenLiving("fine@example.com", 2),
    ];
    await sql`UPDATE credentials
      SET refresh_token = set_byte(refresh_token, length(refresh_token) - 1,
                                   get_byte(refresh_token, length(refresh_token) - 1) # 1)
      WHERE sub = ${broken}`.execute(steward.service.vault.database.db);
    const tokens = manager();
    const [brokenResult, fineResult] = await Promise.allSettled([
      tokens.accessToken(broken),
      tokens.accessToken(fine),
    ]);
    expect(brokenResult).toMatchObject({
      status: "rejected",
      reason: { code: "credential_corrupt" },
    });
    expect(fineResult.status).toBe("fulfilled");
    expect(await refreshesOf(broken)).toBe(0);
    expect(await refreshesOf(fine)).toBe(1);
  });
});

describe("regressions of the offline-access path", () => {
  const store = () => steward.service.vault.store;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Records the service's events of `name` for `sub`; call the result to stop and read them. */
  function eventsOf<E extends keyof StewardEvents>(name: E, sub: string) {
    const seen: StewardEvents[E][] = [];
    const off = steward.service.events.on(name, (event) => {
      if ((event as { sub?: string }).sub === sub) seen.push(event);
    });
    return () => {
      off();
      return seen;
    };
  }

  it("drops the cached token of a grant found dead, instead of handing it out for an hour", async () => {
    const [atGoogle, elsewhere] = [
      await userWithTokenLiving("dead-at-google@example.com", 3599),
      await userWithTokenLiving("revoked-elsewhere@example.com", 3599),
    ];
    const tokens = manager();
    const [first, second] = [
      await tokens.accessToken(atGoogle),
      await tokens.accessToken(elsewhere),
    ];
    // One grant dies at Google (invalid_grant); the other was marked revoked by another instance.
    await control(steward.google, "POST", `/emulator/users/${atGoogle}/revoke`, {});
    await store().markRevoked(elsewhere, "user_request");
    for (const [sub, token] of [
      [atGoogle, first],
      [elsewhere, second],
    ] as const) {
      await expect(tokens.accessToken(sub, { rejectedToken: token.token })).rejects.toMatchObject({
        code: "credential_revoked",
      });
      await expect(tokens.accessToken(sub)).rejects.toMatchObject({ code: "credential_revoked" });
    }
  });

  it("neither caches nor announces a refresh that lands after the user was revoked", async () => {
    const sub = await userWithTokenLiving("revoked-mid-refresh@example.com", 2);
    await control(steward.google, "POST", "/emulator/faults", { path: "/token", latencyMs: 600 });
    const tokens = manager();
    const stop = eventsOf("credential.refreshed", sub);
    const asked = tokens.accessToken(sub);
    asked.catch(() => {});
    // While the refresh is at Google, the user is revoked (revokeGrant's steps after Google).
    await pause(250);
    expect(await store().markRevoked(sub, "user_request")).toBe(true);
    tokens.forget(sub);
    await expect(asked).rejects.toMatchObject({ code: "credential_revoked" });
    await expect(tokens.accessToken(sub)).rejects.toMatchObject({ code: "credential_revoked" });
    expect(stop()).toEqual([]);
  });

  it("does not announce a revocation again when the refresh that found it lost the race", async () => {
    const sub = await userWithTokenLiving("revoked-twice@example.com", 2);
    // revokeGrant's steps: the grant ends at Google, then the store is marked while a refresh
    // that read the credential before is still at Google, where it meets invalid_grant.
    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    await control(steward.google, "POST", "/emulator/faults", { path: "/token", latencyMs: 600 });
    const stop = eventsOf("credential.revoked", sub);
    const asked = manager().accessToken(sub);
    asked.catch(() => {});
    await pause(250);
    expect(await store().markRevoked(sub, "user_request")).toBe(true);
    await expect(asked).rejects.toMatchObject({ code: "credential_revoked" });
    expect(stop()).toEqual([]);
    expect(await store().getCredential(sub)).toMatchObject({ revokedReason: "user_request" });
  });

  it("does not cache a refreshed token again after forget() ran during its write", async () => {
    const sub = await userWithTokenLiving("forgotten-mid-write@example.com", 2);
    const real = store();
    let tokens: TokenManager | undefined;
    // Revocation commits and forgets right after the refresh's write, before it is answered.
    const racing: typeof real = Object.create(real, {
      withLockedUsers: {
        value: (subs: readonly string[], fn: (held: any) => Promise<unknown>, options: object) =>
          real.withLockedUsers(
            subs,
            (held) =>
              fn({
                locked: held.locked,
                busy: held.busy,
                read: () => held.read(),
                write: (outcomes: any) => held.write(outcomes),
                unlock: async (unlocked: readonly string[]) => {
                  await held.unlock(unlocked);
                  for (const s of unlocked) {
                    await real.markRevoked(s, "user_request");
                    tokens?.forget(s);
                  }
                },
              }),
            options,
          ),
      },
    });
    tokens = manager({ store: racing });
    await tokens.accessToken(sub);
    await expect(tokens.accessToken(sub)).rejects.toMatchObject({ code: "credential_revoked" });
  });

  it("keeps a refresh token the provider rotated", async () => {
    const sub = await userWithTokenLiving("rotated@example.com", 2);
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/token",
      status: 200,
      body: {
        access_token: "ya29.after-rotation",
        expires_in: 3599,
        token_type: "Bearer",
        scope: APPDATA,
        refresh_token: "1//rotated-refresh-token",
      },
    });
    expect((await manager().accessToken(sub)).token).toBe("ya29.after-rotation");
    expect(await store().getCredential(sub)).toMatchObject({
      status: "active",
      refreshToken: "1//rotated-refresh-token",
    });
  });

  it("sees scopes added by a later sign-in although the old token is still cached", async () => {
    const sub = await userWithTokenLiving("incremental@example.com", 3599);
    const tokens = manager();
    await tokens.accessToken(sub);
    await signInThroughService(steward, "incremental@example.com", {
      scopes: [APPDATA, DRIVE_FILE],
    });
    const token = await tokens.accessToken(sub, { scopes: [DRIVE_FILE] });
    expect(token.scopes).toContain(DRIVE_FILE);
    expect(token.token).toBe((await store().getCredential(sub))?.accessToken);
    expect(await tokenRequests()).toBe(0);
    await expect(
      tokens.accessToken(sub, { scopes: ["https://www.googleapis.com/auth/photoslibrary"] }),
    ).rejects.toMatchObject({ code: "scope_not_granted" });
  });

  it("does not hand a caller who joins a refresh the token it rejected", async () => {
    const sub = await userWithTokenLiving("joiner-rejected@example.com", 3599);
    const stored = (await store().getCredential(sub))?.accessToken as string;
    const tokens = manager();
    // The first caller's refresh reuses the stored token; the second rejected exactly that one.
    const [first, second] = await Promise.all([
      tokens.accessToken(sub),
      tokens.accessToken(sub, { rejectedToken: stored }),
    ]);
    expect(first.token).toBe(stored);
    expect(second.token).not.toBe(stored);
    expect(await refreshesOf(sub)).toBe(1);
  });

  it("does not hand a caller who joins a refresh a token shorter-lived than it asked for", async () => {
    const sub = await userWithTokenLiving("joiner-validity@example.com", 600);
    const tokens = manager();
    const [first, second] = await Promise.all([
      tokens.accessToken(sub),
      tokens.accessToken(sub, { minValidityMs: 1_200_000 }),
    ]);
    expect(first.expiresAt.getTime()).toBeLessThan(Date.now() + 601_000);
    expect(second.expiresAt.getTime()).toBeGreaterThan(Date.now() + 1_200_000);
    expect(await refreshesOf(sub)).toBe(1);
  });

  it("does not refresh on every hit a token living less than the refresh-ahead window", async () => {
    const sub = await userWithTokenLiving("short-lived@example.com", 2);
    await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 120 });
    let clock = Date.now();
    const tokens = manager({ refreshAheadMs: 300_000, now: () => clock });
    const first = await tokens.accessToken(sub);
    expect(await refreshesOf(sub)).toBe(1);
    for (let i = 0; i < 5; i++) expect((await tokens.accessToken(sub)).token).toBe(first.token);
    await pause(300);
    expect(await refreshesOf(sub)).toBe(1);
    // Past half its life, it is refreshed ahead of expiry as usual.
    clock += 70_000;
    const refreshed = nextRefreshOf(sub);
    expect((await tokens.accessToken(sub, { minValidityMs: 10_000 })).token).toBe(first.token);
    await refreshed;
    expect(await refreshesOf(sub)).toBe(2);
  });

  it("reuses a short-lived token another instance just stored, instead of refreshing it again", async () => {
    const sub = await userWithTokenLiving("short-lived-shared@example.com", 2);
    await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 120 });
    let clock = Date.now();
    const instance = () => manager({ refreshAheadMs: 300_000, now: () => clock });
    const first = await instance().accessToken(sub);
    expect(await refreshesOf(sub)).toBe(1);
    // A cold instance (empty cache) takes the stored token: it lives 2 min, under the window.
    expect((await instance().accessToken(sub)).token).toBe(first.token);
    expect(await refreshesOf(sub)).toBe(1);
    // Past half its life, the stored token is due: a cold instance refreshes it.
    clock += 70_000;
    expect((await instance().accessToken(sub)).token).not.toBe(first.token);
    expect(await refreshesOf(sub)).toBe(2);
  });

  it("rejects a sub that cannot exist alone, without failing the batch it joined", async () => {
    const sub = await userWithTokenLiving("batch-mate@example.com", 2);
    const tokens = manager();
    const [good, ...bad] = await Promise.allSettled([
      tokens.accessToken(sub),
      tokens.accessToken("nul\u0000sub"),
      tokens.accessToken(""),
      tokens.accessToken("9".repeat(256)),
    ]);
    expect(good.status).toBe("fulfilled");
    for (const result of bad) {
      expect(result).toMatchObject({ status: "rejected", reason: { code: "user_not_found" } });
    }
  });
});

describe("across processes", () => {
  it("two Steward processes sharing one PostgreSQL refresh an expired token exactly once", async () => {
    const sub = await userWithTokenLiving("two@example.com", 2);
    const env = {
      ...process.env,
      ...(await sharedEnvironment(steward)),
      TEST_SUB: sub,
      TEST_CALLS: "100",
    };
    const children = [0, 1].map(() =>
      spawn("npx", ["tsx", "packages/steward/test/tokens/support/token-child.ts"], {
        env,
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
          });
          child.on("exit", (code) =>
            code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`)),
          );
        }),
    );
    // Both wait on stdin once started; give them time to open the pool, then start them together.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    for (const child of children) child.stdin.end("go\n");
    const results = (await Promise.all(outputs)).map((out) => JSON.parse(out.trim()));
    expect(results[0].distinct).toHaveLength(1);
    expect(results[1].distinct).toEqual(results[0].distinct);
    expect(await refreshesOf(sub)).toBe(1);
  }, 60_000);
});

// The service's cache is cleared by the NOTIFY a revocation or a delete sends on commit, not by
// an in-process call: "another instance" here is a vault with a pool of its own on the same
// database, and a manager on it with its own event bus.
describe("revoked or deleted by another instance", () => {
  let other: Vault;
  beforeAll(async () => {
    const env = await sharedEnvironment(steward);
    other = await openVault({
      databaseUrl: env.DATABASE_URL,
      keyring: Keyring.parse(env.STEWARD_KEYS as string),
    });
  });
  afterAll(() => other?.close());

  /** A user whose token the service holds in its cache. */
  async function cachedUser(email: string): Promise<{ sub: string; token: string }> {
    const sub = await signInThroughService(steward, email);
    const first = await steward.service.tokens.accessToken(sub);
    expect((await steward.service.tokens.accessToken(sub)).token).toBe(first.token);
    return { sub, token: first.token };
  }

  /** Until the service refuses `sub` with `code` (2 s at most), instead of its cached token. */
  async function refusedByService(sub: string, code: string): Promise<void> {
    await waitUntil(
      () =>
        steward.service.tokens.accessToken(sub).then(
          () => false,
          (error: { code?: string }) => error.code === code,
        ),
      `the service to answer ${code}`,
      2_000,
    );
  }

  it("stops handing out the cached token of a user revoked elsewhere (409, not the dead token)", async () => {
    const { sub } = await cachedUser("revoked-by-other-instance@example.com");
    expect(await other.store.markRevoked(sub, "user_request")).toBe(true);
    await refusedByService(sub, "credential_revoked");
  });

  it("stops handing out the cached token of a user deleted elsewhere (404, not the dead token)", async () => {
    const { sub } = await cachedUser("deleted-by-other-instance@example.com");
    expect(await other.store.deleteUser(sub)).toBe(true);
    await refusedByService(sub, "user_not_found");
  });

  it("stops handing out the cached token of a grant another instance's refresh found dead", async () => {
    const { sub, token } = await cachedUser("invalid-grant-at-other-instance@example.com");
    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    const elsewhere = manager({ store: other.store, events: new EventBus() });
    await expect(elsewhere.accessToken(sub, { rejectedToken: token })).rejects.toMatchObject({
      code: "credential_revoked",
    });
    await refusedByService(sub, "credential_revoked");
  });

  it("forgets every cached token when its LISTEN connection is back, as news may have been missed", async () => {
    const { sub } = await cachedUser("revoked-while-service-not-listening@example.com");
    const { db } = steward.service.vault.database;
    const listening = async () =>
      (
        await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
          WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()`.execute(
          db,
        )
      ).rows.map((row) => row.pid);
    // Cut the service's listening sessions, as a restart or a network fault would; the
    // revocation commits while none listens (they come back after a second), so its NOTIFY is lost.
    const pids = await listening();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(db);
    await waitUntil(async () => (await listening()).length === 0, "the listeners to go");
    expect(await other.store.markRevoked(sub, "user_request")).toBe(true);
    await waitUntil(
      async () => (await listening()).length === pids.length,
      "the listeners to come back",
    );
    await refusedByService(sub, "credential_revoked");
  });
});
