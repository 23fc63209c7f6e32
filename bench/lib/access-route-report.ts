// The markdown section of bench/access-route.bench.ts: the route against a bare Fastify route.
import type { GetLoadResult } from "./get-load.js";
import { count, ms, percent, table } from "./markdown.js";

/** Steward's route at no less than this share of the bare route's throughput... */
export const SHARE_TARGET = 0.7;
/** ...with a p99 at most this multiple of the bare route's p99 in the same run. */
export const P99_RATIO_TARGET = 1.5;
/** baselines.md's bare Fastify route (autocannon, 64 connections) on this machine when quiet. */
const BASELINE_BARE_RPS = 58_000;

export interface RouteSetup {
  serverCore: number;
  loadCore: number;
  httpSeconds: number;
  httpWarmUpSeconds: number;
  httpRounds: number;
  connections: number;
}

export interface RouteMachine {
  loadBefore: number;
  loadAfter: number;
  pinned: boolean;
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

/** The section's verdict and markdown. */
export function routeSection(http: HttpMeasurements, setup: RouteSetup, machine: RouteMachine) {
  if (http.state !== "measured") {
    const absent = http.state === "absent";
    return {
      verdict: absent
        ? "not measured: route not present yet"
        : http.probe.status === 0
          ? "**not measured** (see below)"
          : "**fails**: the route answers an error",
      markdown: [
        "## The access-token route over HTTP",
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
  // The p99s of one run side by side (medians of the rounds), as the target reads.
  const p99Ratio = steward.p99 / bare.p99;
  const misses: string[] = [];
  if (share < SHARE_TARGET)
    misses.push(
      `throughput ${percent(share)} of bare, ${Math.round((SHARE_TARGET - share) * 100)} points short`,
    );
  if (p99Ratio > P99_RATIO_TARGET)
    misses.push(
      `p99 ${p99Ratio.toFixed(2)}x bare's, ${(p99Ratio - P99_RATIO_TARGET).toFixed(2)}x over`,
    );
  if (steward.errors > 0) misses.push(`${count(steward.errors)} errors`);
  const figures = `${percent(share)} of bare's req/s, p99 ${ms(steward.p99)} vs ${ms(bare.p99)} (${p99Ratio.toFixed(2)}x)${perCpu}`;
  const verdict =
    misses.length === 0 ? `meets (${figures})` : `**misses**: ${misses.join("; ")} (${figures})`;
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
    "## The access-token route over HTTP",
    "",
    "Source: `bench/access-route.bench.ts` (run alone: `npm run bench access-route`).",
    `Target: \`GET /v1/users/{sub}/access-token\` at least ${percent(SHARE_TARGET)} of a bare Fastify route's throughput, and`,
    `its p99 at most ${P99_RATIO_TARGET}x the bare route's p99 in the same run. Verdict: ${verdict}.`,
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
    "share of its core (its rate on a core of its own). p99s are the medians of the rounds' p99s.",
    `For scale: \`shared/reference/baselines.md\` has this bare route at ~${count(BASELINE_BARE_RPS)} req/s, p99 ~2.2 ms, on`,
    `this machine when quiet; here it ran at ${percent(bare.rps / BASELINE_BARE_RPS)} of that, p99 ${ms(bare.p99)}.`,
    machine.pinned
      ? `Servers on core ${setup.serverCore} (\`taskset\`), autocannon (this process) on core ${setup.loadCore}.`
      : "**`taskset` failed: nothing was pinned.**",
    `1-minute load average ${machine.loadBefore.toFixed(2)} before, ${machine.loadAfter.toFixed(2)} after (the machine is shared: compare rows of one run).`,
  ].join("\n");
  return { verdict, markdown };
}
