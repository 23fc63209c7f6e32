// The markdown section of bench/emulator.bench.ts: its table, verdicts and how it was measured.
import type { LoadResult } from "./load.js";
import { count, ms, percent, table } from "./markdown.js";

export const REFRESH_TARGET_PER_SECOND = 5_000;
/** "Bounded only by RS256 signing": exchanges at no less than this share of the signing rate. */
export const EXCHANGE_SHARE_OF_SIGNING = 0.8;

export interface BenchSetup {
  serverCore: number;
  loadCore: number;
  seconds: number;
  warmUpSeconds: number;
  signingSeconds: number;
  connections: number;
  refreshUsers: number;
}

export interface Rate {
  perSecond: number;
  /** Per CPU-second of the process: what one whole core would do, whatever else ran on it. */
  perCpuSecond: number;
}

export interface SigningRates {
  nodeCrypto: Rate;
  jose: Rate;
}

export interface EmulatorMeasurements {
  /** Measured before the emulator scenarios and right after the code exchanges. */
  signing: readonly [SigningRates, SigningRates];
  refresh: { result: LoadResult };
  exchange: { result: LoadResult; minted: number; mintSeconds: number };
  reference: LoadResult;
  loadPinned: boolean;
  /** 1-minute load average before and after. */
  load: { before: number; after: number };
}

const HEADER = [
  "scenario",
  "req/s",
  "per server CPU-s",
  "p50",
  "p99",
  "errors",
  "CPU server / load",
  "target",
  "verdict",
];

export function emulatorReport(measured: EmulatorMeasurements, setup: BenchSetup): string {
  const { refresh, exchange, reference } = measured;
  const signing = meanSigning(measured.signing);
  const rows = [
    httpRow(
      "emulator `/token`, refresh grant",
      refresh.result,
      `≥ ${count(REFRESH_TARGET_PER_SECOND)}/s, 0 errors`,
      refreshVerdict(refresh.result),
    ),
    httpRow(
      "emulator `/token`, code exchange",
      exchange.result,
      `≥ ${percent(EXCHANGE_SHARE_OF_SIGNING)} of node:crypto signatures per CPU-s, 0 errors`,
      exchangeVerdict(exchange.result, signing),
    ),
    httpRow("reference: bare `node:http` form POST → token JSON", reference, "—", "reference"),
    signingRow(
      "RS256 sign, node:crypto `sign('sha256')` (what the emulator uses)",
      signing.nodeCrypto,
    ),
    signingRow("RS256 sign, jose `SignJWT`", signing.jose),
  ];
  return [
    "## Emulator: `/token` throughput",
    "",
    "Source: `bench/emulator.bench.ts` (run alone: `npm run bench emulator`). Targets: at least 5,000 refresh",
    `grants per second on one core; code exchanges at least ${percent(EXCHANGE_SHARE_OF_SIGNING)} of the RS256 signing rate on the same core.`,
    `Verdict: refresh ${refreshVerdict(refresh.result)}; code exchange ${exchangeVerdict(exchange.result, signing)}.`,
    "",
    table(HEADER, rows),
    "",
    notes(measured, setup).join("\n"),
    exchangeCost(exchange.result, reference, signing),
    `1-minute load average ${measured.load.before.toFixed(2)} before, ${measured.load.after.toFixed(2)} after (the machine is shared: compare rows of one run).`,
    "",
  ].join("\n");
}

function httpRow(name: string, result: LoadResult, target: string, verdict: string): string[] {
  const busy = result.serverBusy;
  return [
    name,
    count(result.requestsPerSecond),
    busy ? count(result.requestsPerSecond / busy) : "?",
    ms(result.p50Ms),
    ms(result.p99Ms),
    count(result.errors),
    `${busy === undefined ? "?" : percent(busy)} / ${percent(result.clientBusy)}`,
    target,
    verdict,
  ];
}

function meanSigning([before, after]: readonly [SigningRates, SigningRates]): SigningRates {
  const mean = (a: Rate, b: Rate): Rate => ({
    perSecond: (a.perSecond + b.perSecond) / 2,
    perCpuSecond: (a.perCpuSecond + b.perCpuSecond) / 2,
  });
  return {
    nodeCrypto: mean(before.nodeCrypto, after.nodeCrypto),
    jose: mean(before.jose, after.jose),
  };
}

/** A rate measured in one process, where latency and load columns do not apply. */
function signingRow(name: string, rate: Rate): string[] {
  return [
    name,
    count(rate.perSecond),
    count(rate.perCpuSecond),
    "—",
    "—",
    "—",
    "—",
    "—",
    "the bound",
  ];
}

function refreshVerdict(result: LoadResult): string {
  const share = percent(result.requestsPerSecond / REFRESH_TARGET_PER_SECOND);
  if (result.errors > 0) return `**misses** (${share} of target, errors)`;
  return result.requestsPerSecond >= REFRESH_TARGET_PER_SECOND
    ? "meets"
    : `**misses** (${share} of target)`;
}

/** Compared per CPU-second: the signer and the server ran at different moments on a shared core. */
function exchangeVerdict(result: LoadResult, signing: SigningRates): string {
  if (!result.serverBusy) return "? (no CPU figures)";
  const perCpuSecond = result.requestsPerSecond / result.serverBusy;
  const ofJose = perCpuSecond / signing.jose.perCpuSecond;
  const ofNode = perCpuSecond / signing.nodeCrypto.perCpuSecond;
  // The emulator signs with node:crypto (packages/emulator/src/keys.ts): that rate is the bound.
  const meets = ofNode >= EXCHANGE_SHARE_OF_SIGNING && result.errors === 0;
  const short = meets
    ? ""
    : `, ${Math.round((EXCHANGE_SHARE_OF_SIGNING - ofNode) * 100)} points short${result.errors > 0 ? `, ${count(result.errors)} errors` : ""}`;
  return `${meets ? "meets" : "**misses**"}: ${percent(ofNode)} of node:crypto${short}, ${percent(ofJose)} of jose`;
}

/**
 * Where an exchange's CPU goes, per CPU-second figures turned into microseconds: one signature,
 * what any token endpoint costs (the bare reference), and the emulator's own work, the rest.
 */
function exchangeCost(exchange: LoadResult, reference: LoadResult, signing: SigningRates): string {
  if (!exchange.serverBusy || !reference.serverBusy) return "";
  const micros = (perCpuSecond: number) => 1e6 / perCpuSecond;
  const total = micros(exchange.requestsPerSecond / exchange.serverBusy);
  const signature = micros(signing.nodeCrypto.perCpuSecond);
  const http = micros(reference.requestsPerSecond / reference.serverBusy);
  const rest = total - signature - http;
  return [
    `Why an exchange costs more than a signature: ${count(total)} µs of CPU each, of which one RS256 signature`,
    `${count(signature)} µs and a bare form POST answered with a token JSON ${count(http)} µs; the other ${count(rest)} µs`,
    "are the emulator's own work (client authentication, the code's lookup and single use, minting the",
    "access and refresh tokens, `at_hash`, its request log and JSON).",
  ].join("\n");
}

function notes(measured: EmulatorMeasurements, setup: BenchSetup): string[] {
  const { refresh, exchange, reference } = measured;
  const starved = [refresh.result, exchange.result, reference].some(
    (result) => result.serverBusy !== undefined && result.serverBusy < 0.9,
  );
  const ranDry = exchange.result.ranDry ? "; **the codes ran out before the end of the run**" : "";
  return [
    `Each server runs alone in a child process pinned to core ${setup.serverCore} (\`taskset -c ${setup.serverCore}\`);`,
    measured.loadPinned
      ? `autocannon runs in the benchmark process, pinned to core ${setup.loadCore}.`
      : "autocannon runs in the benchmark process (pinning it failed; the OS placed it).",
    `HTTP rows: autocannon, ${setup.connections} connections, ${setup.seconds} s after a ${setup.warmUpSeconds} s warm-up, loopback, a fresh server each;`,
    "req/s counts 2xx answers only; errors are non-2xx answers, connection errors and timeouts;",
    "CPU is the share of one core the server and autocannon used (server 100%: the server was the limit);",
    "per server CPU-s is req/s divided by the server's share: the rate on a core of its own.",
    `Refresh grants: ${setup.refreshUsers} users, each with a refresh token from a real sign-in and code exchange, one per connection;`,
    `responses in each second of the run: ${refresh.result.perSecond.slice(0, setup.seconds).map(count).join(", ")}.`,
    `Code exchanges: ${count(exchange.minted)} serverAuthCodes minted through \`POST /emulator/sign-in\` beforehand`,
    `(${exchange.mintSeconds.toFixed(1)} s), one new user each, every code used once${ranDry}.`,
    `Signatures: one process on core ${setup.serverCore}, ${setup.signingSeconds} s each, sequential, RSA-2048, an ID token's claims;`,
    `the mean of a run before the emulator scenarios and one right after the exchanges (jose per CPU-s: ${measured.signing.map((rates) => count(rates.jose.perCpuSecond)).join(" then ")}).`,
    "The reference answers a token JSON of the same size as the emulator's refresh response.",
    ...(starved
      ? [
          "**A server got less than 90% of its core in at least one row: other work ran on that core",
          "or the load generator could not keep up, so its req/s is a lower bound.**",
        ]
      : []),
  ];
}
