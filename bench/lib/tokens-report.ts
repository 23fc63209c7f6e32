// The markdown section of bench/tokens.bench.ts: its tables, verdicts and how it was measured.

import { MAX_REFRESH_BATCH } from "../../src/tokens/token-manager.js";
import type { GetLoadResult } from "./get-load.js";
import { count, ms, percent, table } from "./markdown.js";
import type { StormResult } from "./token-storm.js";

/** (b): Steward's route at no less than this share of the bare route's throughput... */
export const HTTP_SHARE_TARGET = 0.6;
/** ...with a p99 under this, in ms. */
export const HTTP_P99_TARGET_MS = 10;
/** baselines.md's bare Fastify route (autocannon, 64 connections) on this machine when quiet. */
const BASELINE_BARE_RPS = 58_000;
/** (c): the storm within this multiple of the emulator alone. */
export const STORM_RATIO_TARGET = 1.5;

export interface TokensSetup {
  serverCore: number;
  loadCore: number;
  users: number;
  callsPerUser: number;
  stormRounds: number;
  hitRounds: number;
  hitTaskMs: number;
  bigCache: number;
  httpSeconds: number;
  httpWarmUpSeconds: number;
  httpRounds: number;
  connections: number;
}

export interface Machine {
  cpu: string;
  node: string;
  loadBefore: number;
  loadAfter: number;
  pinned: boolean;
}

export interface TimedStorm extends StormResult {
  /** CPU seconds of the bench process: Steward, or the reference's client. */
  clientCpuSeconds: number;
  /** CPU seconds of PostgreSQL (the embedded server and its backends). */
  databaseCpuSeconds: number;
  /** Share of its core the emulator used. */
  emulatorBusy: number | undefined;
}

export interface StormRound {
  steward: TimedStorm;
  fetchAll: TimedStorm;
}

export interface StormMeasurements {
  seedSeconds: number;
  /** Steward's first pass (not compared), as `cold` is the reference's. */
  stewardCold: TimedStorm;
  cold: TimedStorm;
  rounds: StormRound[];
  /** Measured once, in the first round. */
  extra: {
    autocannonAll: TimedStorm;
    fetchPool: TimedStorm;
    storeOnly: TimedStorm;
  };
  subs: readonly string[];
}

export interface HitRow {
  kind: "steward" | "google" | "floor";
  name: string;
  /** Calls per second. */
  median: number;
  rounds: number[];
}

type Probe = { status: number; body: string };
export type HttpMeasurements =
  | { state: "absent"; probe: Probe }
  | { state: "failing"; probe: Probe }
  | {
      state: "measured";
      probe: Probe;
      /** Round i of each server ran one after the other, bare first. */
      rounds: Record<"steward" | "bare", GetLoadResult[]>;
      responseBytes: number;
    };

export interface TokensMeasurements {
  storm: StormMeasurements;
  hits: HitRow[];
  http: HttpMeasurements;
}

export function tokensReport(
  measured: TokensMeasurements,
  setup: TokensSetup,
  machine: Machine,
): string {
  const hits = hitSection(measured.hits, setup);
  const http = httpSection(measured.http, setup);
  const storm = stormSection(measured.storm, setup);
  return [
    "## Access tokens: cache hits, the HTTP route, a refresh storm",
    "",
    "Source: `bench/tokens.bench.ts` (run alone: `npm run bench -- tokens`). Each part is measured",
    "beside its reference in the same run.",
    `Machine: ${machine.cpu}, Node ${machine.node}, 1-minute load average ${machine.loadBefore.toFixed(2)} ` +
      `before and ${machine.loadAfter.toFixed(2)} after (the machine is shared: compare rows of one run).`,
    machine.pinned
      ? `Servers on core ${setup.serverCore} (\`taskset\`), this process (Steward in process, autocannon, reference clients) on core ${setup.loadCore}.`
      : "**`taskset` was not available: nothing was pinned, so load and servers shared both cores.**",
    "",
    "| part | target | verdict |",
    "| --- | --- | --- |",
    `| (a) \`accessToken()\` cache hit vs google-auth-library | at least as fast | ${hits.verdict} |`,
    `| (b) \`GET /v1/users/{sub}/access-token\` vs bare Fastify | ≥ ${percent(HTTP_SHARE_TARGET)} of its req/s, p99 < ${HTTP_P99_TARGET_MS} ms at ${setup.connections} connections | ${http.verdict} |`,
    `| (c) refresh storm, ${count(setup.users)} expired users × ${setup.callsPerUser} calls | exactly ${count(setup.users)} refreshes, ≤ ${STORM_RATIO_TARGET}x the emulator alone | ${storm.verdict} |`,
    "",
    hits.markdown,
    "",
    http.markdown,
    "",
    storm.markdown,
  ].join("\n");
}

function hitSection(rows: readonly HitRow[], setup: TokensSetup) {
  const google = rows.filter((row) => row.kind === "google");
  const oneClient = google[0];
  const roundRobin = google[1];
  const reference = (row: HitRow) =>
    row.name.includes("round-robin") ? roundRobin : row.kind === "steward" ? oneClient : undefined;
  let allMet = true;
  const lines = rows.map((row) => {
    const ref = reference(row);
    const ratio = ref ? row.median / ref.median : undefined;
    if (row.kind === "steward" && ratio !== undefined && ratio < 1) allMet = false;
    const label =
      row.kind === "steward"
        ? `Steward \`accessToken(sub)\`: ${row.name}`
        : row.kind === "google"
          ? `google-auth-library \`getAccessToken()\`: ${row.name} (reference)`
          : `${row.name} (floor)`;
    return [
      label,
      `${count(row.median)} /s`,
      `${count(Math.min(...row.rounds))}–${count(Math.max(...row.rounds))}`,
      ratio === undefined ? "—" : `${ratio.toFixed(2)}x`,
      row.kind !== "steward" || ratio === undefined
        ? "reference"
        : ratio >= 1
          ? "meets"
          : `**misses** (${ratio.toFixed(2)}x)`,
    ];
  });
  const verdict = allMet ? "meets" : "**misses**";
  const markdown = [
    "### (a) Cache hits in process",
    "",
    table(
      ["loop", "calls/s (median)", "rounds (min–max)", "vs google-auth-library", "verdict"],
      lines,
    ),
    "",
    `Each loop awaits ${count(1000)} calls per tinybench iteration, the same loop for every row;`,
    `${setup.hitRounds} interleaved rounds of ${setup.hitTaskMs} ms per loop, the median shown. A hot user is`,
    "one user asked again and again; round-robin asks each cached user in turn. Steward rows use",
    "the core's TokenManager (as `createSteward()` builds it) warmed for the storm's users, a",
    `TokenManager that has cached one user only, and one whose default cache (${count(setup.bigCache)} users)`,
    "is full (filled from an in-memory store, since a hit never reaches the store).",
    "google-auth-library: `new OAuth2Client()` with `setCredentials({access_token, expiry_date})`",
    "an hour ahead; one client per user, as that library works.",
  ].join("\n");
  return { verdict, markdown };
}

/** (b)'s verdict and markdown; also printed alone by `npx tsx bench/tokens.bench.ts`. */
export function httpSection(http: HttpMeasurements, setup: TokensSetup) {
  if (http.state !== "measured") {
    const absent = http.state === "absent";
    return {
      verdict: absent
        ? "not measured: route not present yet"
        : http.probe.status === 0
          ? "**not measured** (see below)"
          : "**fails**: the route answers an error",
      markdown: [
        "### (b) The access-token route over HTTP",
        "",
        absent
          ? "**Route not present yet**: the service answered `404 not_found` for `GET /v1/users/{sub}/access-token`."
          : http.probe.status === 0
            ? `**Not measured**: ${http.probe.body.slice(0, 300)}`
            : `**The route answered ${http.probe.status}** for a signed-in user with the admin token: \`${http.probe.body.slice(0, 300)}\`.`,
      ].join("\n"),
    };
  }
  const median = (values: readonly number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const summary = (results: readonly GetLoadResult[]) => ({
    rps: median(results.map((result) => result.requestsPerSecond)),
    p50: median(results.map((result) => result.p50Ms)),
    p99: median(results.map((result) => result.p99Ms)),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    server: median(results.map((result) => result.serverBusy ?? Number.NaN)),
    client: median(results.map((result) => result.clientBusy)),
    all: results.map((result) => count(result.requestsPerSecond)).join(", "),
  });
  const bare = summary(http.rounds.bare);
  const steward = summary(http.rounds.steward);
  // The machine's speed drifts from one round to the next (the bare route alone has swung by
  // 2x within a run), so each Steward round is compared with the bare round just before it, and
  // the median of those ratios is the share.
  const paired = (pick: (result: GetLoadResult) => number) =>
    median(
      http.rounds.steward.map((round, i) => {
        const reference = http.rounds.bare[i];
        return reference === undefined ? Number.NaN : pick(round) / pick(reference);
      }),
    );
  const share = paired((result) => result.requestsPerSecond);
  // Req/s per CPU-second of the server: the same comparison, less exposed to stolen time.
  const cpuShare = paired((result) => result.requestsPerSecond / (result.serverBusy ?? Number.NaN));
  const perCpu = Number.isNaN(cpuShare) ? "" : `; per server CPU-s ${percent(cpuShare)}`;
  const met =
    share >= HTTP_SHARE_TARGET && steward.p99 < HTTP_P99_TARGET_MS && steward.errors === 0;
  const verdict = met
    ? `meets (${percent(share)} of bare, p99 ${ms(steward.p99)}${perCpu})`
    : `**misses** (${percent(share)} of bare, p99 ${ms(steward.p99)}, ${count(steward.errors)} errors${perCpu})`;
  const line = (name: string, row: ReturnType<typeof summary>, ratio: string, verdict: string) => [
    name,
    count(row.rps),
    Number.isNaN(row.server) ? "—" : count(row.rps / row.server),
    ms(row.p50),
    ms(row.p99),
    count(row.errors),
    `${Number.isNaN(row.server) ? "?" : percent(row.server)} / ${percent(row.client)}`,
    row.all,
    ratio,
    verdict,
  ];
  const markdown = [
    "### (b) The access-token route over HTTP",
    "",
    table(
      [
        "server",
        "req/s (median)",
        "per server CPU-s",
        "p50",
        "p99",
        "errors",
        "CPU server / load",
        "req/s per round",
        "vs bare (paired)",
        "verdict",
      ],
      [
        line("bare Fastify route answering a constant (reference)", bare, "1.00x", "reference"),
        line(
          "Steward `GET /v1/users/{sub}/access-token`, logs at info (as `steward serve`)",
          steward,
          `${share.toFixed(2)}x`,
          verdict,
        ),
      ],
    ),
    "",
    `autocannon, ${setup.connections} connections, \`Authorization: Bearer <STEWARD_ADMIN_TOKEN>\`, one`,
    `signed-in user whose token is cached; ${setup.httpRounds} rounds of ${setup.httpSeconds} s per server, bare then Steward, after a`,
    `${setup.httpWarmUpSeconds} s warm-up each; medians of the rounds; errors summed. "vs bare" is the median of each`,
    "Steward round's rate over the bare round just before it. Steward: `startService` as",
    "`steward serve` runs it (embedded PostgreSQL, in-process emulator, admin token, pino to /dev/null)",
    `in a child process; the reference answers the same JSON (${count(http.responseBytes)} bytes) from a`,
    "Fastify app with no plugins and no logger. Per server CPU-s: req/s divided by the server's",
    "share of its core (its rate on a core of its own).",
    `For scale: \`shared/reference/baselines.md\` has this bare route at ~${count(BASELINE_BARE_RPS)} req/s, p99 ~2.2 ms, on`,
    `this machine when quiet; here it ran at ${percent(bare.rps / BASELINE_BARE_RPS)} of that, p99 ${ms(bare.p99)}.`,
  ].join("\n");
  return { verdict, markdown };
}

function stormSection(storm: StormMeasurements, setup: TokensSetup) {
  const pick = (key: keyof StormRound) => storm.rounds.map((round) => round[key]);
  const median = (runs: readonly TimedStorm[]) => {
    const sorted = runs.map((run) => run.seconds).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const steward = pick("steward");
  const stewardCold = [storm.stewardCold];
  const fetchAll = pick("fetchAll");
  const reference = median(fetchAll);
  const users = setup.users;
  const exact = (runs: readonly TimedStorm[]) =>
    runs.every((run) => run.refreshes === users && run.failures === 0 && run.splitUsers === 0);
  const perRefreshMs = (runs: readonly TimedStorm[], pickCpu: (run: TimedStorm) => number) =>
    (runs.reduce((sum, run) => sum + pickCpu(run), 0) / (runs.length * users)) * 1000;
  const row = (name: string, runs: readonly TimedStorm[], verdict: string, cpuName: string) => {
    const seconds = median(runs);
    return [
      name,
      `${seconds.toFixed(2)} s`,
      runs.map((run) => run.seconds.toFixed(2)).join(", "),
      runs.map((run) => count(run.refreshes)).join(", "),
      count(runs.reduce((sum, run) => sum + run.failures, 0)),
      `${cpuName} ${perRefreshMs(runs, (run) => run.clientCpuSeconds).toFixed(2)} ms`,
      `${perRefreshMs(runs, (run) => run.databaseCpuSeconds).toFixed(2)} ms`,
      percent(
        runs.reduce((sum, run) => sum + (run.emulatorBusy ?? 0), 0) / Math.max(1, runs.length),
      ),
      `${(seconds / reference).toFixed(2)}x`,
      verdict,
    ];
  };
  const stewardSeconds = median(steward);
  const ratio = stewardSeconds / reference;
  const exactly = exact(steward);
  const met = exactly && ratio <= STORM_RATIO_TARGET;
  const verdict = met
    ? `meets (${ratio.toFixed(2)}x, ${count(users)} refreshes per storm)`
    : `**misses** (${ratio.toFixed(2)}x the emulator alone${exactly ? `; exactly ${count(users)} refreshes per storm` : "; refresh count off, see below"})`;
  const failure = [...steward, ...stewardCold].find((run) => run.failure)?.failure;
  const markdown = [
    "### (c) Refresh storm",
    "",
    table(
      [
        "run",
        "time (median)",
        "time per round",
        "refresh grants per round",
        "failures",
        "CPU per refresh, this process",
        "PostgreSQL CPU per refresh",
        "emulator busy",
        "vs reference",
        "verdict",
      ],
      [
        row(
          `Steward: ${count(users * setup.callsPerUser)} concurrent \`accessToken()\` calls`,
          steward,
          verdict,
          "Steward",
        ),
        row(
          `Steward's store alone, no HTTP: lock, read, write and unlock every user, in batches of ${count(MAX_REFRESH_BATCH)} as TokenManager does`,
          [storm.extra.storeOnly],
          storm.extra.storeOnly.failures === 0 ? "explains" : "**failed**",
          "Steward",
        ),
        row(
          `emulator alone: ${count(users)} refresh POSTs via \`fetch\`, all concurrent (reference)`,
          fetchAll,
          "reference",
          "client",
        ),
        row(
          `emulator alone: ${count(users)} autocannon connections, one refresh each`,
          [storm.extra.autocannonAll],
          "reference",
          "client",
        ),
        row(
          `emulator alone: ${count(users)} refresh POSTs via \`fetch\`, 10 at a time`,
          [storm.extra.fetchPool],
          "reference",
          "client",
        ),
        row(
          "Steward, first pass: the same storm, cold (not compared)",
          [storm.stewardCold],
          exact([storm.stewardCold]) ? "—" : "**refresh count off**",
          "Steward",
        ),
        row(
          "emulator alone, first pass: `fetch`, all concurrent, cold (not compared)",
          [storm.cold],
          "—",
          "client",
        ),
      ],
    ),
    "",
    `${count(users)} users signed in through the real path (SDK sign-in at the emulator, code exchange,`,
    `ID-token verification, sealed storage in the embedded PostgreSQL; ${storm.seedSeconds.toFixed(1)} s) while the`,
    "emulator issued access tokens living 1 s, so every stored token was expired. A storm is a fresh",
    `TokenManager (empty cache, as a process that just started) taking ${count(users * setup.callsPerUser)} calls at once,`,
    `${setup.callsPerUser} per user; refresh grants are the emulator's own count (\`GET /emulator/stats\`). Steward's first`,
    "pass meets the tokens expired for real; each later storm moves its new TokenManager's clock (its `now`",
    "option) 2 h further ahead, so the tokens the previous storm stored count as expired, instead of waiting an hour.",
    `Every storm handed each user's ${setup.callsPerUser} callers one token: ${[...steward, ...stewardCold].every((run) => run.splitUsers === 0) ? "yes" : "**no**"}.` +
      (failure ? ` First failure: \`${failure}\`.` : ""),
    `The Steward storm and the reference run in ${setup.stormRounds} interleaved rounds; the other rows once, in the first round.`,
    "The reference refreshes the same users' refresh tokens at the same emulator. Both sides first run",
    "once, not compared (the cold rows): the emulator caches each user's refresh ID token, sockets open,",
    "and V8 compiles each side's code.",
    `Emulator and PostgreSQL on core ${setup.serverCore}; Steward (or the reference's client) alone on core ${setup.loadCore}.`,
    "CPU per refresh: the run's CPU time divided by the refreshes; emulator busy: its share of its core.",
  ].join("\n");
  return { verdict, markdown };
}
