// The emulator's /token throughput: refresh grants and code exchanges, next to a bare node:http
// token handler and the RS256 signing rate, all measured in this run on the same core.
// BENCH_SECONDS sets the seconds of each measured HTTP run.
import { loadavg } from "node:os";
import { join } from "node:path";
import { whilePinnedTo } from "./lib/affinity.js";
import {
  type EmulatorEndpoint,
  exchangeForm,
  mintCodes,
  refreshForm,
  tokenRequest,
  usersWithRefreshTokens,
} from "./lib/emulator-control.js";
import { type BenchSetup, emulatorReport, type SigningRates } from "./lib/emulator-report.js";
import { type LoadOptions, type LoadResult, postForms } from "./lib/load.js";
import { runPinned, startPinned } from "./lib/pinned-child.js";
import { whileProfiling } from "./lib/profile-window.js";

/** Servers and the signer run on core 0; the load generator (this process) on core 1. */
const SETUP: BenchSetup = {
  serverCore: 0,
  loadCore: 1,
  seconds: Number(process.env.BENCH_SECONDS ?? 4),
  warmUpSeconds: 2,
  signingSeconds: 2,
  connections: 64,
  // One user per connection, each refreshing its own token.
  refreshUsers: 64,
};
/** Codes minted beyond the most a core could exchange, so the measurement never runs out. */
const CODE_MARGIN = 1.25;

export default async function run(): Promise<string> {
  const loadBefore = loadavg()[0] as number;
  const { value, pinned } = await whilePinnedTo(SETUP.loadCore, measureAll);
  const load = { before: loadBefore, after: loadavg()[0] as number };
  return emulatorReport({ ...value, loadPinned: pinned, load }, SETUP);
}

async function measureAll() {
  // The signer runs alone on the server core, before and right after the exchanges, since the
  // shared machine's speed drifts; the report uses the mean of both.
  const signingBefore = await measureSigning();
  // A fresh emulator per scenario: each starts from an empty state, as a test run would.
  const refresh = await withEmulator("refresh", refreshGrants);
  const exchange = await withEmulator("exchange", (emulator) =>
    codeExchanges(emulator, signingBefore.jose.perCpuSecond),
  );
  const signingAfter = await measureSigning();
  const reference = await bareHandler(refresh.sampleResponse);
  return { signing: [signingBefore, signingAfter] as const, refresh, exchange, reference };
}

function measureSigning(): Promise<SigningRates> {
  return runPinned<SigningRates>({
    core: SETUP.serverCore,
    script: "servers/rs256-signer.ts",
    args: [String(SETUP.signingSeconds)],
  });
}

/** An emulator process under load, and how to measure it. */
interface EmulatorUnderTest {
  endpoint: EmulatorEndpoint;
  /** Runs a measured load (profiled when asked), reporting the server's CPU share too. */
  measure(options: Omit<LoadOptions, "url" | "serverPid">): Promise<LoadResult>;
  /** Runs an unmeasured load, e.g. a warm-up. */
  warmUp(options: Omit<LoadOptions, "url" | "serverPid" | "durationSeconds">): Promise<void>;
}

/**
 * Runs `scenario` against a fresh emulator in its own process on the server core. With
 * BENCH_EMULATOR_CPU_PROF=DIR, the emulator profiles the measured window only and writes
 * DIR/emulator-<scenario>.cpuprofile (read it with `npx tsx bench/cpu-profile-top.ts FILE`).
 */
async function withEmulator<T>(
  scenario: string,
  run: (emulator: EmulatorUnderTest) => Promise<T>,
): Promise<T> {
  const profileDir = process.env.BENCH_EMULATOR_CPU_PROF;
  const child = await startPinned<EmulatorEndpoint>({
    core: SETUP.serverCore,
    script: "servers/emulator-server.ts",
    env: profileDir
      ? { CPU_PROFILE_PATH: join(profileDir, `emulator-${scenario}.cpuprofile`) }
      : {},
  });
  const url = `${child.ready.url}/token`;
  try {
    return await run({
      endpoint: child.ready,
      measure: (options) =>
        whileProfiling(child.pid, profileDir !== undefined, () =>
          postForms({ ...options, url, serverPid: child.pid, connections: SETUP.connections }),
        ),
      warmUp: async (options) => {
        await postForms({
          ...options,
          url,
          serverPid: child.pid,
          connections: SETUP.connections,
          durationSeconds: SETUP.warmUpSeconds,
        });
      },
    });
  } finally {
    await child.stop();
  }
}

async function refreshGrants({ endpoint, measure, warmUp }: EmulatorUnderTest) {
  const refreshTokens = await usersWithRefreshTokens(endpoint, SETUP.refreshUsers);
  const bodies = refreshTokens.map((token) => refreshForm(endpoint, token));
  const sampleResponse = await tokenRequest(endpoint, bodies[0] as string);
  const body = { kind: "perConnection", values: bodies } as const;
  // Warm-up: JIT, and the per-user ID tokens a refresh reuses.
  await warmUp({ body });
  const result = await measure({ body, durationSeconds: SETUP.seconds });
  return { result, sampleResponse };
}

async function codeExchanges(
  { endpoint, measure, warmUp }: EmulatorUnderTest,
  signaturesPerCpuSecond: number,
) {
  // An exchange signs one ID token, so a core cannot exchange faster than it signs (the margin
  // covers the machine getting faster meanwhile; a run that still runs dry says so).
  const needed = Math.ceil(
    signaturesPerCpuSecond * (SETUP.warmUpSeconds + SETUP.seconds) * CODE_MARGIN,
  );
  const mintStartedAt = performance.now();
  const codes = await mintCodes(endpoint, needed, "bench-exchange");
  const mintSeconds = (performance.now() - mintStartedAt) / 1000;
  let next = 0;
  const nextBody = () => {
    const code = codes[next++];
    return code === undefined ? undefined : exchangeForm(endpoint, code);
  };
  const body = { kind: "perRequest", next: nextBody } as const;
  await warmUp({ body });
  const result = await measure({ body, durationSeconds: SETUP.seconds });
  return { result, minted: codes.length, mintSeconds };
}

async function bareHandler(sampleResponse: Record<string, unknown>) {
  const server = await startPinned<{ url: string }>({
    core: SETUP.serverCore,
    script: "servers/bare-token-server.ts",
    env: { TOKEN_RESPONSE_TEMPLATE: JSON.stringify(sampleResponse) },
  });
  try {
    const load = {
      url: `${server.ready.url}/token`,
      serverPid: server.pid,
      connections: SETUP.connections,
      body: { kind: "fixed", value: "grant_type=refresh_token&refresh_token=1%2F%2F0bench" },
    } as const;
    await postForms({ ...load, durationSeconds: SETUP.warmUpSeconds });
    return await postForms({ ...load, durationSeconds: SETUP.seconds });
  } finally {
    await server.stop();
  }
}
