// Token reads and memory as the user count grows: 10k, 100k (and 1,000,000 when asked) users
// made by `steward seed`, each size in a fresh database. Then `steward keys rotate` over them.
// Sizes: BENCH_SCALE_USERS="10000,100000,1000000" (default "10000,100000").
// Run alone: `npm run bench scale` (needs dist/: `npm run build`).
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import pg from "pg";
import type { EmulatorEndpoint } from "./lib/emulator-control.js";
import { count, ms, table } from "./lib/markdown.js";
import { getPaths, type PathLoadResult } from "./lib/path-load.js";
import { startPinned } from "./lib/pinned-child.js";
import {
  heapUsedBytes,
  rssBytes,
  runSteward,
  startServe,
  stewardEnv,
} from "./lib/steward-process.js";
import { throwawayDatabase } from "./lib/throwaway-database.js";

/** Users read once each (cold: not cached), then again and again (warm: all cached). */
const SAMPLE = 5_000;
/** More users read once after that, so the cache (10,000 users by default) is full. */
const SWEEP = 20_000;
const CONNECTIONS = 16;
const WARM_SECONDS = 10;

interface SizeResult {
  users: number;
  database: string;
  seedSeconds: number;
  databaseBytes: number;
  cold: PathLoadResult;
  warm: PathLoadResult;
  sweep: PathLoadResult & { users: number };
  memory: { idle: Memory; afterWarm: Memory; afterSweep: Memory };
  rotation: { seconds: number; line: string };
  loadBefore: number;
  loadAfter: number;
}

interface Memory {
  rss: number | undefined;
  heap: number | undefined;
}

export default async function run(): Promise<string> {
  const sizes = (process.env.BENCH_SCALE_USERS ?? "10000,100000")
    .split(",")
    .map((size) => Number(size.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < SAMPLE + 1))
    throw new Error(`BENCH_SCALE_USERS: whole numbers above ${SAMPLE}, comma separated`);
  const results: SizeResult[] = [];
  for (const users of sizes) {
    console.log(`bench scale: ${count(users)} users`);
    results.push(await measureSize(users));
  }
  return report(results);
}

async function measureSize(users: number): Promise<SizeResult> {
  const loadBefore = loadavg()[0] as number;
  const database = await throwawayDatabase("scale");
  // A fresh emulator per size: it holds every seeded user in memory.
  const emulator = await startPinned<EmulatorEndpoint>({
    core: 1,
    script: "servers/emulator-server.ts",
  });
  const oldKey = `k1:${randomBytes(32).toString("base64")}`;
  const target = {
    databaseUrl: database.url,
    emulatorUrl: emulator.ready.url,
    clientId: emulator.ready.clientId,
    clientSecret: emulator.ready.clientSecret,
    keys: oldKey,
    adminToken: randomBytes(24).toString("hex"),
  };
  try {
    const seed = await runSteward(["seed", "--users", String(users)], stewardEnv(target));
    const databaseBytes = await databaseSize(database.url);
    const subs = await someSubs(database.url, SAMPLE + SWEEP);
    const headers = { authorization: `Bearer ${target.adminToken}` };
    const path = (sub: string) => `/v1/users/${sub}/access-token`;
    const sample = subs.slice(0, SAMPLE).map(path);
    const rest = subs.slice(SAMPLE).map(path);
    // The service alone on core 0; the emulator (idle now: every token is valid) on core 1.
    const service = await startServe(stewardEnv(target), { core: 0 });
    let measured: Pick<SizeResult, "cold" | "warm" | "sweep" | "memory">;
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const memory = async (): Promise<Memory> => ({
        rss: await rssBytes(service.pid),
        heap: await heapUsedBytes(service.url),
      });
      const idle = await memory();
      const origin = service.url;
      const cold = await getPaths({ origin, headers, paths: sample, connections: CONNECTIONS });
      const warm = await getPaths({
        origin,
        headers,
        paths: sample,
        connections: CONNECTIONS,
        durationSeconds: WARM_SECONDS,
      });
      const afterWarm = await memory();
      const sweep = await getPaths({ origin, headers, paths: rest, connections: CONNECTIONS });
      const afterSweep = await memory();
      measured = {
        cold,
        warm,
        sweep: { ...sweep, users: rest.length },
        memory: { idle, afterWarm, afterSweep },
      };
    } finally {
      await service.stop();
    }
    const newKey = `k2:${randomBytes(32).toString("base64")}`;
    const rotate = await runSteward(
      ["keys", "rotate", "--batch-size", "1000"],
      stewardEnv({ ...target, keys: `${newKey},${oldKey}` }),
    );
    const line = rotate.stdout.split("\n").find((text) => text.startsWith("Re-sealed")) ?? "";
    return {
      users,
      database: database.description,
      seedSeconds: seed.seconds,
      databaseBytes,
      ...measured,
      rotation: { seconds: rotate.seconds, line: line.trim() },
      loadBefore,
      loadAfter: loadavg()[0] as number,
    };
  } finally {
    await emulator.stop();
    await database.close();
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseSize(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const result = await client.query<{ bytes: string }>(
      "SELECT pg_database_size(current_database()) AS bytes",
    );
    return Number(result.rows[0]?.bytes);
  });
}

/** `n` users picked at random (or all of them, shuffled, when fewer). */
function someSubs(url: string, n: number): Promise<string[]> {
  return withClient(url, async (client) => {
    const result = await client.query<{ sub: string }>(
      "SELECT sub FROM credentials ORDER BY random() LIMIT $1",
      [n],
    );
    return result.rows.map((row) => row.sub);
  });
}

const mib = (bytes: number | undefined) =>
  bytes === undefined ? "?" : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** "Re-sealed 100000 of 100000 credentials under k2 in 3.5 s (28571/s); 0 failed." */
function rotationRate(line: string): string {
  const match = line.match(/in ([\d.]+) s \((\d+)\/s\); (\d+) failed/);
  return match ? `${match[1]} s, ${count(Number(match[2]))} /s, ${match[3]} failed` : line;
}

function report(results: readonly SizeResult[]): string {
  const first = results[0] as SizeResult;
  const last = results.at(-1) as SizeResult;
  const p99Ratio = (pick: (r: SizeResult) => number) => pick(last) / Math.max(pick(first), 1);
  const coldRatio = p99Ratio((r) => r.cold.p99Ms);
  const warmRatio = p99Ratio((r) => r.warm.p99Ms);
  const heapRatio = (last.memory.afterSweep.heap ?? 0) / (first.memory.afterSweep.heap ?? 1);
  const verdict = (ratio: number, bound: number) =>
    ratio <= bound ? `meets (${ratio.toFixed(2)}x)` : `**misses** (${ratio.toFixed(2)}x)`;
  const span = `${count(first.users)} → ${count(last.users)} users`;
  const lines = [
    "## Scale: token reads, memory and key rotation by user count",
    "",
    "Source: `bench/scale.bench.ts` (run alone: `npm run bench scale`; sizes from",
    "`BENCH_SCALE_USERS`, default `10000,100000`; the full run is `BENCH_SCALE_USERS=10000,100000,1000000 npm run bench scale`).",
    "",
    table(
      ["target", span, "verdict"],
      [
        [
          "token read p99 within 2x, cold",
          `${ms(first.cold.p99Ms)} → ${ms(last.cold.p99Ms)}`,
          verdict(coldRatio, 2),
        ],
        [
          "token read p99 within 2x, warm",
          `${ms(first.warm.p99Ms)} → ${ms(last.warm.p99Ms)}`,
          verdict(warmRatio, 2),
        ],
        [
          "memory bounded by the cache, not the user count (heap with a full cache)",
          `${mib(first.memory.afterSweep.heap)} → ${mib(last.memory.afterSweep.heap)}`,
          verdict(heapRatio, 1.5),
        ],
      ],
    ),
    "",
    table(
      [
        "users",
        "seed",
        "database",
        "cold reads: req/s, p50, p99",
        "warm reads: req/s, p50, p99",
        "errors",
        "load (1 min) before / after",
      ],
      results.map((r) => [
        count(r.users),
        `${r.seedSeconds.toFixed(1)} s (${count(r.users / r.seedSeconds)} users/s)`,
        `${mib(r.databaseBytes)}, ${r.database}`,
        `${count(r.cold.requestsPerSecond)}, ${ms(r.cold.p50Ms)}, ${ms(r.cold.p99Ms)}`,
        `${count(r.warm.requestsPerSecond)}, ${ms(r.warm.p50Ms)}, ${ms(r.warm.p99Ms)}`,
        String(r.cold.errors + r.warm.errors + r.sweep.errors),
        `${r.loadBefore.toFixed(2)} / ${r.loadAfter.toFixed(2)}`,
      ]),
    ),
    "",
    table(
      [
        "users",
        "RSS / heap, idle",
        `after ${count(SAMPLE)} users read`,
        "after more, cache full",
        "users read in all",
      ],
      results.map((r) => [
        count(r.users),
        `${mib(r.memory.idle.rss)} / ${mib(r.memory.idle.heap)}`,
        `${mib(r.memory.afterWarm.rss)} / ${mib(r.memory.afterWarm.heap)}`,
        `${mib(r.memory.afterSweep.rss)} / ${mib(r.memory.afterSweep.heap)}`,
        count(SAMPLE + r.sweep.users),
      ]),
    ),
    "",
    table(
      ["users", "`steward keys rotate` (k1 → k2, batches of 1,000)", "command's own line"],
      results.map((r) => [count(r.users), rotationRate(r.rotation.line), `\`${r.rotation.line}\``]),
    ),
    "",
    `Each size: a fresh database (${first.database}), a fresh emulator in its own process on core 1,`,
    "`steward seed --users N` (the seed time includes the emulator making each user), then",
    "`steward serve` (logs at warn) pinned to core 0 with its default cache of 10,000 users.",
    `Cold: ${count(SAMPLE)} users picked at random, each read once (\`GET /v1/users/{sub}/access-token\`,`,
    `admin token, ${CONNECTIONS} autocannon connections): a cache miss, one database read and an open of the`,
    `sealed access token each (no refresh: every seeded token is valid). Warm: the same users again for`,
    `${WARM_SECONDS} s, all cached. Then up to ${count(SWEEP)} more users, read once, fill the cache; memory is`,
    "the service's RSS (/proc) and V8 heap in use (its `/metrics`), read after each step, without forcing",
    "a GC. Rotation: the service stopped, `STEWARD_KEYS=k2,k1 steward keys rotate`, its own summary.",
    "The load generator (autocannon, this process) is not pinned; the machine is shared by other work,",
    "so compare rows of one run; latencies are whole milliseconds (autocannon's resolution).",
  ];
  return lines.join("\n");
}
