// Scenario (a) of bench/tokens.bench.ts: `TokenManager.accessToken()` cache hits in process,
// next to google-auth-library's `OAuth2Client.getAccessToken()` on a cached token and an
// awaited `Map.get` (the floor of any async cache): the same loop for each, tasks interleaved.
import { OAuth2Client } from "google-auth-library";
import { Bench } from "tinybench";
import type { Credential, VaultStore } from "../../packages/steward/src/store/index.js";
import type { TokenManager } from "../../packages/steward/src/tokens/token-manager.js";

/** Awaited calls per tinybench iteration, so the harness's own timing is amortised. */
export const CALLS_PER_ITERATION = 1_000;

/** One measured loop: CALLS_PER_ITERATION awaited calls; returns the summed token lengths. */
export type HitLoop = () => Promise<number>;

/** Steward: `accessToken(subs[i % n])`; one sub is a hot user. */
export function stewardLoop(tokens: TokenManager, subs: readonly string[]): HitLoop {
  return async () => {
    let length = 0;
    for (let i = 0; i < CALLS_PER_ITERATION; i++)
      length += (await tokens.accessToken(subs[i % subs.length] as string)).token.length;
    return length;
  };
}

/** google-auth-library: `clients[i % n].getAccessToken()`, each client holding a valid token. */
export function googleAuthLoop(clients: readonly OAuth2Client[]): HitLoop {
  return async () => {
    let length = 0;
    for (let i = 0; i < CALLS_PER_ITERATION; i++)
      length += (await (clients[i % clients.length] as OAuth2Client).getAccessToken()).token
        ?.length as number;
    return length;
  };
}

/** The floor: an async function returning `Map.get`, awaited. */
export function mapLoop(keys: readonly string[]): HitLoop {
  const map = new Map(keys.map((key) => [key, { token: `ya29.a0${key}` }]));
  const get = async (key: string) => map.get(key);
  return async () => {
    let length = 0;
    for (let i = 0; i < CALLS_PER_ITERATION; i++)
      length += (await get(keys[i % keys.length] as string))?.token.length as number;
    return length;
  };
}

/** `count` OAuth2Clients with a cached access token valid for an hour (no refresh token). */
export function cachedGoogleClients(count: number): OAuth2Client[] {
  const expiry = Date.now() + 3_600_000;
  return Array.from({ length: count }, (_, index) => {
    const client = new OAuth2Client();
    client.setCredentials({
      access_token: `ya29.a0bench${index}${"A".repeat(180)}`,
      expiry_date: expiry,
    });
    return client;
  });
}

/**
 * A store that answers `withLockedUsers` from memory with a valid stored token: only to fill a
 * TokenManager's cache with many users quickly. A cache hit never reaches the store.
 */
export function inMemoryStore(): VaultStore {
  const expiresAt = new Date(Date.now() + 3_600_000);
  const store: Pick<VaultStore, "withLockedUsers"> = {
    withLockedUsers: async (subs, fn) =>
      fn({
        locked: subs,
        busy: [],
        read: async () => ({
          credential: (sub): Credential => ({
            sub,
            status: "active",
            grantedScopes: ["openid", "email", "profile"],
            hasRefreshToken: true,
            kid: "bench",
            refreshToken: "1//0bench",
            accessToken: `ya29.a0bench${sub}${"A".repeat(180)}`,
            accessTokenExpiresAt: expiresAt,
            revokedReason: null,
            lastRefreshAt: null,
            lastError: null,
            createdAt: expiresAt,
            updatedAt: expiresAt,
          }),
        }),
        write: async () => new Set(),
        unlock: async () => {},
      }),
  };
  return store as VaultStore;
}

/** Calls per second of each loop: every round's rate and the median, rounds interleaved. */
export async function measureLoops<Name extends string>(
  loops: Record<Name, HitLoop>,
  options: { rounds: number; taskMs: number },
): Promise<Record<Name, { median: number; rounds: number[] }>> {
  const names = Object.keys(loops) as Name[];
  const bench = new Bench({ time: options.taskMs, warmupTime: 100 });
  for (const name of names) {
    const loop = loops[name];
    bench.add(name, async () => {
      if ((await loop()) === 0) throw new Error(`${name} handed out no token`);
    });
  }
  const rates = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round++) {
    // tinybench 6 runs a task once unless reset: without this every round repeats the first.
    bench.reset();
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") throw new Error(`${task.name}: ${result.state}`);
      rates.get(task.name)?.push((CALLS_PER_ITERATION * 1000) / result.period);
    }
  }
  const out = {} as Record<Name, { median: number; rounds: number[] }>;
  for (const name of names) {
    const rounds = rates.get(name) ?? [];
    const sorted = [...rounds].sort((a, b) => a - b);
    out[name] = { median: sorted[Math.floor(sorted.length / 2)] ?? 0, rounds };
  }
  return out;
}
