// `npm run soak -- --minutes N [--rate OPS] [--users N] [--token-seconds S]` (needs dist/:
// `npm run build`). Two `steward serve` processes on one PostgreSQL (a fresh database on
// TEST_DATABASE_URL's server when set, else an embedded one), the emulator in its own process,
// users made by `steward seed` whose access tokens live `--token-seconds` (so they expire during
// the run), and a fixed-rate mix of sign-ins, token reads (each user asked at both instances at
// once) and proxied Drive calls. Each minute: errors, p50/p99 per operation, refreshes against
// the expected count, each process's memory. The last report goes to docs/soak.md.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import type { EmulatorEndpoint } from "./lib/emulator-control.js";
import { LatencyLog, type LatencySummary } from "./lib/latency-log.js";
import { count, table } from "./lib/markdown.js";
import { startPinned } from "./lib/pinned-child.js";
import { type RefreshCheck, RefreshModel } from "./lib/soak-model.js";
import {
  heapUsedBytes,
  rssBytes,
  runSteward,
  type ServeProcess,
  startServe,
  stewardEnv,
} from "./lib/steward-process.js";
import { throwawayDatabase } from "./lib/throwaway-database.js";

const OUTPUT = new URL("../docs/soak.md", import.meta.url);
const DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.file";
/** Share of operations of each kind (a token read asks both instances). */
const MIX = { signIn: 0.05, tokenRead: 0.6, driveCall: 0.35 } as const;
/** Operations in flight at most; beyond it an operation is skipped and counted. */
const MAX_IN_FLIGHT = 256;

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    rate: { type: "string", default: "20" },
    users: { type: "string", default: "10000" },
    "token-seconds": { type: "string", default: "420" },
  },
});
const minutes = positive("minutes", args.minutes);
const rate = positive("rate", args.rate);
const userCount = positive("users", args.users);
const tokenSeconds = positive("token-seconds", args["token-seconds"]);

type Kind = "signIn" | "tokenRead" | "driveCall";
const KINDS: readonly Kind[] = ["signIn", "tokenRead", "driveCall"];
const LABEL: Record<Kind, string> = {
  signIn: "sign-in (`POST /v1/auth/google/code`)",
  tokenRead: "token read (`GET /v1/users/{sub}/access-token`)",
  driveCall: "proxied Drive call (`GET /v1/users/{sub}/google/drive/v3/files`)",
};

interface Memory {
  rss: number | undefined;
  heap: number | undefined;
}

interface MinuteReport {
  minute: number;
  ops: Record<Kind, LatencySummary>;
  skipped: number;
  refreshes: number;
  expected: number;
  memory: { a: Memory; b: Memory; emulator: Memory };
  load: number;
}

const loadAtStart = loadavg()[0] as number;
const startedAt = new Date();
console.log(
  `soak: ${minutes} min, ${rate} operations/s, ${count(userCount)} users, tokens living ${tokenSeconds} s`,
);
const database = await throwawayDatabase("soak");
const emulator = await startPinned<EmulatorEndpoint>({
  core: 1,
  script: "servers/emulator-server.ts",
});
const instances: ServeProcess[] = [];
try {
  await send("PUT", `${emulator.ready.url}/emulator/settings`, {
    accessTokenTtlSeconds: tokenSeconds,
  });
  const target = {
    databaseUrl: database.url,
    emulatorUrl: emulator.ready.url,
    clientId: emulator.ready.clientId,
    clientSecret: emulator.ready.clientSecret,
    keys: `k1:${randomBytes(32).toString("base64")}`,
    adminToken: randomBytes(24).toString("hex"),
  };
  const env = stewardEnv(target);
  const seed = await runSteward(
    ["seed", "--users", String(userCount), "--scope", DRIVE_SCOPE],
    env,
  );
  console.log(`soak: seeded in ${seed.seconds.toFixed(1)} s`);
  const model = new RefreshModel(tokenSeconds * 1000);
  const subs = await seededUsers(database.url, model);
  instances.push(await startServe(env), await startServe(env));
  const [a, b] = instances as [ServeProcess, ServeProcess];
  const auth = { authorization: `Bearer ${target.adminToken}` };
  const logs: Record<Kind, LatencyLog> = {
    signIn: new LatencyLog(),
    tokenRead: new LatencyLog(),
    driveCall: new LatencyLog(),
  };
  const busy = new Set<string>();
  let inFlight = 0;
  let skipped = 0;
  let signIns = 0;

  const pickUser = (): string | undefined => {
    for (let tries = 0; tries < 8; tries++) {
      const sub = subs[Math.floor(Math.random() * subs.length)] as string;
      if (!busy.has(sub)) return sub;
    }
    return undefined;
  };
  const timed = async (log: LatencyLog, request: () => Promise<Response>) => {
    const sent = performance.now();
    try {
      const response = await request();
      const body = await response.text();
      const ms = performance.now() - sent;
      if (response.ok) log.ok(ms);
      else log.failed(ms, `HTTP ${response.status} ${errorCode(body)}`);
      return response.ok ? body : undefined;
    } catch (error) {
      log.failed(performance.now() - sent, (error as Error).message);
      return undefined;
    }
  };
  const tokenRead = async (sub: string) => {
    const sent = Date.now();
    const read = (instance: ServeProcess) =>
      timed(logs.tokenRead, () =>
        fetch(`${instance.url}/v1/users/${sub}/access-token`, { headers: auth }),
      );
    const bodies = await Promise.all([read(a), read(b)]);
    const expiries = bodies
      .filter((body) => body !== undefined)
      .map((body) => Date.parse((JSON.parse(body) as { expiresAt: string }).expiresAt));
    model.record(sub, sent, Date.now(), expiries.length > 0 ? Math.max(...expiries) : undefined);
  };
  const driveCall = async (sub: string) => {
    const sent = Date.now();
    const instance = Math.random() < 0.5 ? a : b;
    await timed(logs.driveCall, () =>
      fetch(`${instance.url}/v1/users/${sub}/google/drive/v3/files?pageSize=1`, {
        headers: auth,
      }),
    );
    model.record(sub, sent, Date.now());
  };
  const signIn = async () => {
    const instance = Math.random() < 0.5 ? a : b;
    const code = await send("POST", `${emulator.ready.url}/emulator/sign-in`, {
      clientId: target.clientId,
      email: `soak-${signIns++}@example.com`,
    }).catch(() => undefined);
    if (code === undefined) {
      logs.signIn.failed(0, "the emulator's sign-in failed");
      return;
    }
    await timed(logs.signIn, () =>
      fetch(`${instance.url}/v1/auth/google/code`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-requested-with": "XMLHttpRequest" },
        body: JSON.stringify({ code: (code as { serverAuthCode: string }).serverAuthCode }),
      }),
    );
  };
  const launch = () => {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      return;
    }
    const roll = Math.random();
    const kind: Kind =
      roll < MIX.signIn ? "signIn" : roll < MIX.signIn + MIX.tokenRead ? "tokenRead" : "driveCall";
    let work: Promise<void>;
    if (kind === "signIn") {
      work = signIn();
    } else {
      const sub = pickUser();
      if (sub === undefined) {
        skipped++;
        return;
      }
      busy.add(sub);
      work = (kind === "tokenRead" ? tokenRead(sub) : driveCall(sub)).finally(() =>
        busy.delete(sub),
      );
    }
    inFlight++;
    void work.finally(() => inFlight--);
  };

  let refreshesSoFar = 0;
  let expectedSoFar = 0;
  const reports: MinuteReport[] = [];
  const report = async (minute: number) => {
    const refreshes = await seededRefreshTotal(emulator.ready.url, model);
    const memory = async (instance: ServeProcess) => ({
      rss: await rssBytes(instance.pid),
      heap: await heapUsedBytes(instance.url),
    });
    const entry: MinuteReport = {
      minute,
      ops: {
        signIn: logs.signIn.take(),
        tokenRead: logs.tokenRead.take(),
        driveCall: logs.driveCall.take(),
      },
      skipped,
      refreshes: refreshes - refreshesSoFar,
      expected: model.expected - expectedSoFar,
      memory: {
        a: await memory(a),
        b: await memory(b),
        emulator: { rss: await rssBytes(emulator.pid), heap: undefined },
      },
      load: loadavg()[0] as number,
    };
    refreshesSoFar = refreshes;
    expectedSoFar = model.expected;
    skipped = 0;
    reports.push(entry);
    console.log(minuteLine(entry));
  };

  // A fixed rate: each 100 ms tick launches what the elapsed time owes, whatever is in flight.
  const loadStarted = performance.now();
  const endAt = loadStarted + minutes * 60_000;
  let launched = 0;
  let nextReport = loadStarted + 60_000;
  let minute = 1;
  while (performance.now() < endAt) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const owed = Math.floor(((performance.now() - loadStarted) / 1000) * rate) - launched;
    for (let i = 0; i < owed; i++) launch();
    launched += owed;
    if (performance.now() >= nextReport) {
      await report(minute++);
      nextReport += 60_000;
    }
  }
  // Let every answer and every refresh ahead of expiry (run after its answer) finish.
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const check = model.check(await refreshesBySub(emulator.ready.url));
  const failures = new Map<string, number>();
  for (const kind of KINDS)
    for (const [why, n] of logs[kind].failureKinds)
      failures.set(`${kind}: ${why}`, (failures.get(`${kind}: ${why}`) ?? 0) + n);
  const text = document({
    reports,
    check,
    failures,
    seedSeconds: seed.seconds,
    database: database.description,
    launched,
  });
  await writeFile(OUTPUT, text);
  console.log(text);
  console.log(`soak: wrote ${OUTPUT.pathname}`);
} finally {
  for (const instance of instances) await instance.stop();
  await emulator.stop();
  await database.close();
}
process.exit();

async function seededUsers(url: string, model: RefreshModel): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ sub: string; expires_at: Date }>(
      "SELECT sub, access_token_expires_at AS expires_at FROM credentials",
    );
    for (const row of rows) model.addSeeded(row.sub, row.expires_at.getTime());
    return rows.map((row) => row.sub);
  } finally {
    await client.end();
  }
}

async function refreshesBySub(emulatorUrl: string): Promise<Map<string, number>> {
  const stats = (await send("GET", `${emulatorUrl}/emulator/stats`)) as {
    grantsBySub: Record<string, Record<string, number>>;
  };
  const bySub = new Map<string, number>();
  for (const [sub, grants] of Object.entries(stats.grantsBySub))
    if (grants.refresh_token) bySub.set(sub, grants.refresh_token);
  return bySub;
}

async function seededRefreshTotal(emulatorUrl: string, model: RefreshModel): Promise<number> {
  const bySub = await refreshesBySub(emulatorUrl);
  const all = [...bySub.values()].reduce((sum, n) => sum + n, 0);
  return all - model.check(bySub).refreshesOfUntrackedUsers;
}

async function send(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}`);
  return JSON.parse(text);
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? "";
  } catch {
    return "";
  }
}

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

// Functions, not consts: the top-level run above calls them before a const would exist.
function mib(bytes: number | undefined): string {
  return bytes === undefined ? "?" : `${(bytes / 2 ** 20).toFixed(0)}`;
}

function msCell(value: number | undefined): string {
  return value === undefined ? "—" : `${value.toFixed(0)}`;
}

function minuteLine(entry: MinuteReport): string {
  const ops = KINDS.map((kind) => {
    const op = entry.ops[kind];
    return `${kind} ${op.count} err ${op.errors} p50 ${msCell(op.p50Ms)} p99 ${msCell(op.p99Ms)} ms`;
  }).join("; ");
  const { a, b, emulator: e } = entry.memory;
  return (
    `minute ${entry.minute}: ${ops}; refreshes ${entry.refreshes} (expected ~${entry.expected}); ` +
    `RSS/heap MiB A ${mib(a.rss)}/${mib(a.heap)} B ${mib(b.rss)}/${mib(b.heap)} emulator ${mib(e.rss)}; load ${entry.load.toFixed(2)}`
  );
}

function document(run: {
  reports: readonly MinuteReport[];
  check: RefreshCheck;
  failures: ReadonlyMap<string, number>;
  seedSeconds: number;
  database: string;
  launched: number;
}): string {
  const { reports, check } = run;
  const errors = reports.reduce(
    (sum, entry) => sum + KINDS.reduce((n, kind) => n + entry.ops[kind].errors, 0),
    0,
  );
  const skipped = reports.reduce((sum, entry) => sum + entry.skipped, 0);
  const ratio = check.expected === 0 ? Number.NaN : check.actual / check.expected;
  const warm = reports[Math.min(1, reports.length - 1)] as MinuteReport;
  const last = reports.at(-1) as MinuteReport;
  const growth = (pick: (entry: MinuteReport) => number | undefined) => {
    const from = pick(warm);
    const to = pick(last);
    return from && to ? to / from - 1 : Number.NaN;
  };
  const memoryRows = (["a", "b"] as const).map((name) => {
    const rss = growth((entry) => entry.memory[name].rss);
    const heap = growth((entry) => entry.memory[name].heap);
    return [
      `instance ${name.toUpperCase()}`,
      `${mib(warm.memory[name].rss)} → ${mib(last.memory[name].rss)} MiB (${signed(rss)})`,
      `${mib(warm.memory[name].heap)} → ${mib(last.memory[name].heap)} MiB (${signed(heap)})`,
    ];
  });
  const memoryFlat = memoryRows.length > 0 && reports.length >= 3;
  const lines = [
    "# Soak",
    "",
    "Generated by `npm run soak -- --minutes N` (`bench/soak.ts`); do not edit by hand. Not part of `npm test`.",
    "",
    `- Run: ${startedAt.toISOString()}, ${reports.length} minutes of load (\`--minutes ${minutes} --rate ${rate} --users ${userCount} --token-seconds ${tokenSeconds}\`)`,
    `- Machine: ${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores, Node ${process.version}; shared with other work: 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${last.load.toFixed(2)} at the end`,
    `- Database: ${run.database}, one database for both instances`,
    `- Users: ${count(userCount)} made by \`steward seed\` (${run.seedSeconds.toFixed(1)} s), plus one new user per sign-in`,
    "",
    "## Verdicts",
    "",
    table(
      ["target", "measured", "verdict"],
      [
        [
          "errors: 0",
          `${count(errors)} of ${count(reports.reduce((n, e) => n + KINDS.reduce((m, k) => m + e.ops[k].count, 0), 0))} requests; ${count(skipped)} operations skipped (over ${MAX_IN_FLIGHT} in flight)`,
          errors === 0 && skipped === 0 ? "meets" : "**misses**",
        ],
        [
          "refreshes per user per expiry: exactly 1 (counted at the emulator)",
          `${count(check.actual)} refreshes for ${count(check.expected)} expiries met (${ratio.toFixed(3)} per expiry); users refreshed more than once per expiry: ${check.usersWithExtra}, never refreshed when due: ${check.usersWithMissing}`,
          check.usersWithExtra === 0 && check.usersWithMissing === 0 && check.expected > 0
            ? "meets"
            : "**misses**",
        ],
        [
          "memory flat after warm-up (minute 2 to the last)",
          memoryRows.map((row) => `${row[0]}: RSS ${row[1]}, heap ${row[2]}`).join("; "),
          memoryFlat
            ? "see the table: a few minutes show the trend only"
            : "too short to say (run 3 minutes or more)",
        ],
      ],
    ),
    "",
    "## Each minute",
    "",
    "Latencies in ms (p50 / p99) as the load generator saw them, requests per minute, errors.",
    "Refreshes: refresh grants the emulator answered for the seeded users in that minute, beside",
    "the expiries the model saw met in that minute (rough per minute: a refresh ahead of expiry",
    "lands after its answer; the exact check is the one above, after the load drained).",
    "Memory: RSS (/proc) / V8 heap in use (each instance's `/metrics`), MiB.",
    "",
    table(
      [
        "min",
        ...KINDS.map((kind) => `${kind}: n, err, p50 / p99`),
        "refreshes (expected)",
        "A RSS / heap",
        "B RSS / heap",
        "emulator RSS",
        "load",
      ],
      reports.map((entry) => [
        String(entry.minute),
        ...KINDS.map((kind) => {
          const op = entry.ops[kind];
          return `${count(op.count)}, ${op.errors}, ${msCell(op.p50Ms)} / ${msCell(op.p99Ms)}`;
        }),
        `${count(entry.refreshes)} (${count(entry.expected)})`,
        `${mib(entry.memory.a.rss)} / ${mib(entry.memory.a.heap)}`,
        `${mib(entry.memory.b.rss)} / ${mib(entry.memory.b.heap)}`,
        mib(entry.memory.emulator.rss),
        entry.load.toFixed(2),
      ]),
    ),
    "",
    ...(run.failures.size > 0
      ? ["Failures seen:", "", ...[...run.failures].map(([why, n]) => `- ${why}: ${n}`), ""]
      : []),
    "## How it runs",
    "",
    `- Operations: ${KINDS.map((kind) => `${kind}, ${LABEL[kind]}`).join("; ")}.`,
    `- Two \`steward serve\` processes (logs at warn) on one database, against the emulator in its own process (core 1), which issues access tokens living ${tokenSeconds} s, so every seeded token falls due during the run (Steward refreshes a token on its first use once less than min(5 min, half its life) remains).`,
    `- A fixed rate of ${rate} operations/s, whatever is in flight (kept modest: the machine is shared by other work). Each operation: ${MIX.signIn * 100}% a sign-in of a new user (the emulator's SDK sign-in, then the code to a random instance; only Steward's part is timed), ${MIX.tokenRead * 100}% a token read of a random seeded user asked of both instances at once (two requests racing the same refresh across processes), ${MIX.driveCall * 100}% a Drive files list through a random instance's proxy. A user has one operation in flight at most.`,
    "- Refreshes per expiry: the emulator counts refresh grants per user. The model (`bench/lib/soak-model.ts`) knows each seeded token's expiry from the database and expects one refresh for each operation sent after the token fell due, none before; it then moves the due time by the new token's life. Users with an operation too close to a due time to tell (within 1.5 s, or while a refresh ahead of expiry may still be running) are left out of the exact count: " +
      `${count(check.uncertainUsers)} of them here (${check.uncertainOverBound} refreshed more often than they were asked), against ${count(check.certainUsers)} counted. Refresh grants of users who signed in during the run (not asked for tokens): ${check.refreshesOfUntrackedUsers}.`,
    "- Memory flat: compare the minute-2 row (caches and pools warm) with the last; a few minutes show a trend only, an hour (`--minutes 60`) says more.",
    "",
  ];
  return lines.join("\n");
}

function signed(fraction: number): string {
  if (Number.isNaN(fraction)) return "?";
  const percent = Math.round(fraction * 100);
  return `${percent >= 0 ? "+" : ""}${percent}%`;
}
