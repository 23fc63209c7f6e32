// Access tokens, two ways, each beside its reference in the same run:
// (a) `TokenManager.accessToken()` cache hits in process vs google-auth-library's
//     `OAuth2Client.getAccessToken()` on a cached token;
// (b) a refresh storm (1,000 users with expired tokens, 10 concurrent calls each) vs the
//     emulator alone doing the same 1,000 refresh grants.
// The route over HTTP is bench/access-route.bench.ts.
import { cpus, loadavg } from "node:os";
import { TokenManager } from "../packages/steward/src/tokens/token-manager.js";
import { whilePinnedTo } from "./lib/affinity.js";
import {
  cachedGoogleClients,
  googleAuthLoop,
  type HitLoop,
  inMemoryStore,
  mapLoop,
  measureLoops,
  stewardLoop,
} from "./lib/cache-hit.js";
import { withBusyShare } from "./lib/cpu-time.js";
import type { EmulatorEndpoint } from "./lib/emulator-control.js";
import { startPinned } from "./lib/pinned-child.js";
import { descendantsCpuSeconds } from "./lib/process-tree-cpu.js";
import {
  emulatorAlone,
  emulatorAloneAutocannon,
  freshTokenManager,
  openStewardRig,
  type StewardRig,
  type StormResult,
  seedExpiredUsers,
  stewardStorm,
  storeAlone,
} from "./lib/token-storm.js";
import {
  type HitRow,
  type StormMeasurements,
  type TimedStorm,
  type TokensSetup,
  tokensReport,
} from "./lib/tokens-report.js";

const SETUP: TokensSetup = {
  serverCore: 0,
  loadCore: 1,
  users: Number(process.env.BENCH_TOKENS_USERS ?? 1_000),
  callsPerUser: 10,
  stormRounds: 3,
  hitRounds: 9,
  hitTaskMs: 300,
  bigCache: 10_000,
};
/** Each Steward storm moves its fresh TokenManager's clock this much further (see freshTokenManager). */
const CLOCK_STEP_MS = 2 * 3_600_000;

export default async function run(): Promise<string> {
  const loadBefore = loadavg()[0] as number;
  const { value, pinned } = await whilePinnedTo(SETUP.loadCore, measureAll);
  const loadAfter = loadavg()[0] as number;
  const cpu = cpus();
  return tokensReport(value, SETUP, {
    cpu: `${cpu[0]?.model.trim() ?? "unknown"}, ${cpu.length} cores`,
    node: process.version,
    loadBefore,
    loadAfter,
    pinned,
  });
}

async function measureAll() {
  const { storm, hits } = await withEmulatorAndRig(async (rig, emulatorPid) => {
    const storm = await measureStorm(rig, emulatorPid);
    const hits = await measureHits(rig, storm.subs);
    return { storm, hits };
  });
  return { storm, hits };
}

/**
 * The emulator in its own process on the server core, and Steward's core in this process (on
 * the load core), whose embedded PostgreSQL is started while this process is pinned to the
 * server core: Steward's process gets a core to itself, as the reference's client does, and
 * what it calls (Google, PostgreSQL) shares the other.
 */
async function withEmulatorAndRig<T>(
  work: (rig: StewardRig, emulatorPid: number) => Promise<T>,
): Promise<T> {
  const emulator = await startPinned<EmulatorEndpoint>({
    core: SETUP.serverCore,
    script: "servers/emulator-server.ts",
  });
  try {
    const { value: rig } = await whilePinnedTo(SETUP.serverCore, () =>
      openStewardRig(emulator.ready),
    );
    try {
      return await work(rig, emulator.pid);
    } finally {
      await rig.close();
    }
  } finally {
    await emulator.stop();
  }
}

async function measureStorm(rig: StewardRig, emulatorPid: number): Promise<StormMeasurements> {
  const seeded = await seedExpiredUsers(rig, SETUP.users);
  const { subs, refreshTokens } = seeded;
  // CPU of this process (Steward, or the reference's client), of PostgreSQL (every other
  // descendant but the emulator) and of the emulator, during each run.
  const timed = async (run: () => Promise<StormResult>): Promise<TimedStorm> => {
    const own = process.cpuUsage();
    const database = descendantsCpuSeconds(process.pid, [emulatorPid]);
    const { value, busyShare } = await withBusyShare(emulatorPid, run);
    const used = process.cpuUsage(own);
    return {
      ...value,
      clientCpuSeconds: (used.user + used.system) / 1e6,
      databaseCpuSeconds: descendantsCpuSeconds(process.pid, [emulatorPid]) - database,
      emulatorBusy: busyShare,
    };
  };
  // First touch of every user, shown and not compared: the emulator signs each user's refresh
  // ID token once (it reuses it afterwards); `fetch` opens its sockets; the code on each side
  // (Steward's, or the reference's client) is compiled by V8. Steward's first pass meets the
  // tokens expired for real.
  const stewardCold = await timed(() =>
    stewardStorm(rig, freshTokenManager(rig, rig.core.vault, 0), subs, SETUP.callsPerUser),
  );
  const cold = await timed(() => emulatorAlone(rig.emulator, refreshTokens, refreshTokens.length));
  const rounds: StormMeasurements["rounds"] = [];
  let extra: StormMeasurements["extra"] | undefined;
  let clock = CLOCK_STEP_MS;
  for (let round = 0; round < SETUP.stormRounds; round++) {
    // A new TokenManager each round, its clock moved past the tokens the last round stored.
    const manager = freshTokenManager(rig, rig.core.vault, clock);
    clock += CLOCK_STEP_MS;
    const steward = await timed(() => stewardStorm(rig, manager, subs, SETUP.callsPerUser));
    const fetchAll = await timed(() =>
      emulatorAlone(rig.emulator, refreshTokens, refreshTokens.length),
    );
    rounds.push({ steward, fetchAll });
    // The other rows once, in the first round (they explain, they are not the verdict).
    extra ??= {
      autocannonAll: await timed(() => emulatorAloneAutocannon(rig.emulator, refreshTokens)),
      fetchPool: await timed(() => emulatorAlone(rig.emulator, refreshTokens, 10)),
      // Writes a made-up token; the next round's clock makes it expired like the others.
      storeOnly: await timed(() => storeAlone(rig, subs)),
    };
  }
  if (extra === undefined) throw new Error("no storm round ran");
  return { seedSeconds: seeded.seconds, stewardCold, cold, rounds, extra, subs };
}

async function measureHits(rig: StewardRig, subs: readonly string[]): Promise<HitRow[]> {
  // The core's own TokenManager (as createSteward() builds it), warmed for every user: the
  // last storm left fresh tokens stored, so this reads them under the lock, no refresh.
  const warm = rig.core.tokens;
  for (const sub of subs) await warm.accessToken(sub);
  const hot = [subs[0] as string];
  // A TokenManager that has cached one user only.
  const single = new TokenManager({
    store: rig.core.vault.store,
    oauth: rig.core.oauth,
    events: rig.core.events,
  });
  await single.accessToken(hot[0] as string);
  // The default cacheSize, full: filled from memory (a hit never reaches the store).
  const full = new TokenManager({
    store: inMemoryStore(),
    oauth: rig.core.oauth,
    events: rig.core.events,
  });
  const many = Array.from({ length: SETUP.bigCache }, (_, index) =>
    String(200_000_000_000_000_000_000n + BigInt(index)),
  );
  for (const sub of many) await full.accessToken(sub);
  const oneClient = cachedGoogleClients(1);
  const clients = cachedGoogleClients(subs.length);
  const n = subs.length.toLocaleString("en-US");
  const big = SETUP.bigCache.toLocaleString("en-US");
  const loops: Record<string, HitLoop> = {
    "steward:hot user, only user cached": stewardLoop(single, hot),
    [`steward:hot user, ${n} users cached`]: stewardLoop(warm, hot),
    [`steward:${n} users round-robin, all cached`]: stewardLoop(warm, subs),
    [`steward:hot user, ${big} users cached (cacheSize default, full)`]: stewardLoop(full, [
      many[0] as string,
    ]),
    "google:one client, cached token": googleAuthLoop(oneClient),
    [`google:${n} clients round-robin, cached tokens`]: googleAuthLoop(clients),
    "floor:awaited Map.get": mapLoop(subs),
  };
  const rates = await measureLoops(loops, { rounds: SETUP.hitRounds, taskMs: SETUP.hitTaskMs });
  return Object.entries(rates).map(([key, rate]) => {
    const [kind, name] = key.split(/:(.*)/s) as [HitRow["kind"], string];
    return { kind, name, ...rate };
  });
}
