// Scenario (c) of bench/tokens.bench.ts: users with expired access tokens, a storm of concurrent
// `accessToken()` calls against them, and the emulator alone doing the same refreshes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pino from "pino";
import { loadConfig } from "../../packages/steward/src/config/load.js";
import { type Core, openCore } from "../../packages/steward/src/core/open-core.js";
import { completeSignIn } from "../../packages/steward/src/signin/complete-sign-in.js";
import {
  MAX_REFRESH_BATCH,
  TokenManager,
} from "../../packages/steward/src/tokens/token-manager.js";
import type { Vault } from "../../packages/steward/src/vault/vault.js";
import { type EmulatorEndpoint, refreshForm, signIn } from "./emulator-control.js";

/** Steward in this process (the library's core) against an emulator in another. */
export interface StewardRig {
  core: Core;
  emulator: EmulatorEndpoint;
  /** The core's PostgreSQL (embedded) as a URL, for a second pool on it. */
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Opens Steward's core as `createSteward()` does, against the emulator at `emulator.url`
 * (`STEWARD_GOOGLE`), with an embedded PostgreSQL in a fresh data dir (the default setup).
 */
export async function openStewardRig(emulator: EmulatorEndpoint): Promise<StewardRig> {
  const dataDir = await mkdtemp(join(tmpdir(), "steward-bench-tokens-"));
  try {
    const config = loadConfig({
      STEWARD_DATA_DIR: dataDir,
      STEWARD_GOOGLE: emulator.url,
      GOOGLE_CLIENT_ID: emulator.clientId,
      GOOGLE_CLIENT_SECRET: emulator.clientSecret,
    });
    const core = await openCore(config, {
      logger: pino({ level: "silent" }),
      purpose: "bench tokens",
    });
    const connection = core.vault.database.embedded?.connection();
    if (connection === undefined) throw new Error("expected the embedded PostgreSQL");
    const databaseUrl = `postgres://${connection.user}:${encodeURIComponent(connection.password)}@${connection.host}:${connection.port}/${connection.database}`;
    return {
      core,
      emulator,
      databaseUrl,
      close: async () => {
        await core.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface SeededUsers {
  subs: string[];
  /** Each user's refresh token, as the emulator issued it and the vault stored it. */
  refreshTokens: string[];
  seconds: number;
}

/**
 * Signs `count` users in through the real path (SDK sign-in at the emulator, then
 * `completeSignIn`: code exchange, ID-token verification, sealed storage) while the emulator
 * issues access tokens living 1 s, so every stored access token is expired at once.
 */
export async function seedExpiredUsers(
  rig: StewardRig,
  count: number,
  concurrency = 16,
): Promise<SeededUsers> {
  const startedAt = performance.now();
  const { core, emulator } = rig;
  const deps = {
    oauth: core.oauth,
    idTokenRules: core.idTokenRules,
    store: core.vault.store,
    events: core.events,
    requiredScopes: [],
  };
  await putSettings(emulator, { accessTokenTtlSeconds: 1 });
  const subs: string[] = new Array(count);
  try {
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < count; index = next++) {
        const code = await signIn(emulator, `bench-storm-${index}@example.com`);
        const result = await completeSignIn(deps, { code, redirectUri: "" });
        subs[index] = result.user.sub;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await putSettings(emulator, { accessTokenTtlSeconds: 3599 });
  }
  const refreshTokens: string[] = [];
  for (const sub of subs) {
    const credential = await core.vault.store.getCredential(sub);
    if (!credential?.refreshToken || credential.accessTokenExpiresAt === null) {
      throw new Error(`user ${sub} has no stored tokens`);
    }
    if (credential.accessTokenExpiresAt.getTime() > Date.now() + 60_000) {
      throw new Error(`user ${sub} has a stored access token that is not expired`);
    }
    refreshTokens.push(credential.refreshToken);
  }
  return { subs, refreshTokens, seconds: (performance.now() - startedAt) / 1000 };
}

/** The emulator's refresh-grant count so far. */
export async function refreshGrants(emulator: EmulatorEndpoint): Promise<number> {
  const response = await fetch(`${emulator.url}/emulator/stats`);
  const stats = (await response.json()) as { grants?: Record<string, number> };
  return stats.grants?.refresh_token ?? 0;
}

export interface StormResult {
  seconds: number;
  /** Refresh grants the emulator counted during the run. */
  refreshes: number;
  calls: number;
  failures: number;
  /** First failure, for the report. */
  failure: string | undefined;
  /** Distinct tokens handed out (one per user when every caller of a user shared its refresh). */
  distinctTokens: number;
  /** Users whose callers did not all get the same token. */
  splitUsers: number;
}

/**
 * A fresh TokenManager (an instance that just started: empty cache) on `vault`'s store, as
 * `openCore` builds it, with its clock `clockOffsetMs` ahead, so stored tokens that a previous
 * round made fresh look expired again (instead of waiting an hour between rounds).
 */
export function freshTokenManager(rig: StewardRig, vault: Vault, clockOffsetMs: number) {
  return new TokenManager({
    store: vault.store,
    oauth: rig.core.oauth,
    events: rig.core.events,
    now: () => Date.now() + clockOffsetMs,
  });
}

/** Fires `callsPerUser` concurrent `accessToken(sub)` calls per user, all at once. */
export async function stewardStorm(
  rig: StewardRig,
  tokens: TokenManager,
  subs: readonly string[],
  callsPerUser: number,
): Promise<StormResult> {
  const before = await refreshGrants(rig.emulator);
  const startedAt = performance.now();
  const calls: Promise<{ token: string }>[] = [];
  // Round-robin over the users: every user's first call comes before anyone's second.
  for (let round = 0; round < callsPerUser; round++) {
    for (const sub of subs) calls.push(tokens.accessToken(sub));
  }
  const settled = await Promise.allSettled(calls);
  const seconds = (performance.now() - startedAt) / 1000;
  const refreshes = (await refreshGrants(rig.emulator)) - before;
  const tokensBySub = new Map<string, Set<string>>();
  let failures = 0;
  let failure: string | undefined;
  settled.forEach((result, index) => {
    if (result.status === "rejected") {
      failures += 1;
      failure ??= String((result.reason as Error)?.message ?? result.reason);
      return;
    }
    const sub = subs[index % subs.length] as string;
    const set = tokensBySub.get(sub) ?? new Set<string>();
    set.add(result.value.token);
    tokensBySub.set(sub, set);
  });
  const all = new Set<string>();
  let splitUsers = 0;
  for (const set of tokensBySub.values()) {
    if (set.size > 1) splitUsers += 1;
    for (const token of set) all.add(token);
  }
  return {
    seconds,
    refreshes,
    calls: calls.length,
    failures,
    failure,
    distinctTokens: all.size,
    splitUsers,
  };
}

/**
 * The emulator alone: one refresh grant per refresh token, POSTed with `fetch` (what
 * openid-client uses), at most `concurrency` in flight.
 */
export async function emulatorAlone(
  emulator: EmulatorEndpoint,
  refreshTokens: readonly string[],
  concurrency: number,
): Promise<StormResult> {
  const forms = refreshTokens.map((token) => refreshForm(emulator, token));
  const url = `${emulator.url}/token`;
  const before = await refreshGrants(emulator);
  const issued: string[] = [];
  let failures = 0;
  let failure: string | undefined;
  const post = async (form: string) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    const text = await response.text();
    if (response.status !== 200) {
      failures += 1;
      failure ??= `${response.status}: ${text.slice(0, 200)}`;
      return;
    }
    issued.push((JSON.parse(text) as { access_token: string }).access_token);
  };
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < forms.length; index = next++) {
      await post(forms[index] as string).catch((error: unknown) => {
        failures += 1;
        failure ??= String(error);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, forms.length) }, worker));
  const seconds = (performance.now() - startedAt) / 1000;
  const refreshes = (await refreshGrants(emulator)) - before;
  return {
    seconds,
    refreshes,
    calls: forms.length,
    failures,
    failure,
    distinctTokens: new Set(issued).size,
    splitUsers: 0,
  };
}

/**
 * What a refresh costs Steward's store without Google: all users at once, what `TokenManager`
 * does around the HTTP calls (lock a batch of users, read and open their credentials, seal and
 * write a new access token for each in one statement, release the locks).
 */
export async function storeAlone(rig: StewardRig, subs: readonly string[]): Promise<StormResult> {
  const store = rig.core.vault.store;
  const expiresAt = new Date(Date.now() + 3_600_000);
  let failures = 0;
  let failure: string | undefined;
  const failed = (error: unknown) => {
    failures += 1;
    failure ??= String(error);
  };
  const batches: string[][] = [];
  for (let start = 0; start < subs.length; start += MAX_REFRESH_BATCH)
    batches.push(subs.slice(start, start + MAX_REFRESH_BATCH));
  const startedAt = performance.now();
  await Promise.all(
    batches.map((batch) =>
      store
        .withLockedUsers(batch, async (held) => {
          const read = await held.read();
          const outcomes = held.locked.map((sub) => {
            if (!read.credential(sub)?.refreshToken) throw new Error(`no refresh token for ${sub}`);
            const result = { accessToken: `ya29.a0storeonly${sub}`, expiresAt };
            return { sub, outcome: { kind: "refreshed", result } as const };
          });
          await held.write(outcomes);
          await held.unlock(held.locked);
        })
        .catch(failed),
    ),
  );
  return {
    seconds: (performance.now() - startedAt) / 1000,
    refreshes: 0,
    calls: subs.length,
    failures,
    failure,
    distinctTokens: 0,
    splitUsers: 0,
  };
}

/**
 * The emulator alone, with autocannon's cheaper client: `connections` connections, one refresh
 * token each (so at most one refresh grant per user), `refreshTokens.length` requests in all.
 */
export async function emulatorAloneAutocannon(
  emulator: EmulatorEndpoint,
  refreshTokens: readonly string[],
): Promise<StormResult> {
  const forms = refreshTokens.map((token) => refreshForm(emulator, token));
  const before = await refreshGrants(emulator);
  const startedAt = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    let index = 0;
    autocannon(
      {
        url: `${emulator.url}/token`,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        connections: forms.length,
        amount: forms.length,
        timeout: 30,
        setupClient: (client) => client.setBody(forms[index++ % forms.length]),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const refreshes = (await refreshGrants(emulator)) - before;
  const failures = result.non2xx + result.errors + result.timeouts;
  return {
    seconds,
    refreshes,
    calls: forms.length,
    failures,
    failure: failures > 0 ? `${failures} non-2xx answers or errors` : undefined,
    distinctTokens: result["2xx"],
    splitUsers: 0,
  };
}

async function putSettings(emulator: EmulatorEndpoint, settings: Record<string, number>) {
  const response = await fetch(`${emulator.url}/emulator/settings`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(settings),
  });
  if (response.status !== 200) {
    throw new Error(`PUT /emulator/settings answered ${response.status}`);
  }
}
