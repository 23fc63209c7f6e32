// The markdown section of bench/tokens.bench.ts: its tables, verdicts and how it was measured.

import { MAX_REFRESH_BATCH } from "../../packages/steward/src/tokens/token-manager.js";
import { count, percent, table } from "./markdown.js";
import type { StormResult } from "./token-storm.js";

/** (b): the storm within this multiple of the emulator alone. */
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

export interface TokensMeasurements {
  storm: StormMeasurements;
  hits: HitRow[];
}

export function tokensReport(
  measured: TokensMeasurements,
  setup: TokensSetup,
  machine: Machine,
): string {
  const hits = hitSection(measured.hits, setup);
  const storm = stormSection(measured.storm, setup);
  return [
    "## Access tokens: cache hits, a refresh storm",
    "",
    "Source: `bench/tokens.bench.ts` (run alone: `npm run bench -- tokens`). Each part is measured",
    "beside its reference in the same run. The access-token route over HTTP has its own section (`access-route`).",
    `Machine: ${machine.cpu}, Node ${machine.node}, 1-minute load average ${machine.loadBefore.toFixed(2)} ` +
      `before and ${machine.loadAfter.toFixed(2)} after (the machine is shared: compare rows of one run).`,
    machine.pinned
      ? `Servers on core ${setup.serverCore} (\`taskset\`), this process (Steward in process, autocannon, reference clients) on core ${setup.loadCore}.`
      : "**`taskset` was not available: nothing was pinned, so load and servers shared both cores.**",
    "",
    "| part | target | verdict |",
    "| --- | --- | --- |",
    `| (a) \`accessToken()\` cache hit vs google-auth-library | at least as fast | ${hits.verdict} |`,
    `| (b) refresh storm, ${count(setup.users)} expired users × ${setup.callsPerUser} calls | exactly ${count(setup.users)} refreshes, ≤ ${STORM_RATIO_TARGET}x the emulator alone | ${storm.verdict} |`,
    "",
    hits.markdown,
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
    "### (b) Refresh storm",
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
