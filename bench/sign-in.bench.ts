// A sign-in end to end (`POST /v1/auth/google/code`: Steward exchanges the code at the emulator,
// verifies the ID token, seals the refresh token and stores it in one transaction) against the
// emulator's own code exchange alone (`POST /token`), at the same concurrency, per sign-in.
// Core 0: the emulator (Google) and this process (autocannon, the apps' clients), the same in
// both runs; core 1: Steward and its embedded PostgreSQL. BENCH_SIGNINS sets sign-ins per run.
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { whilePinnedTo } from "./lib/affinity.js";
import { type EmulatorEndpoint, exchangeForm, mintCodes } from "./lib/emulator-control.js";
import { type LoadResult, postForms } from "./lib/load.js";
import { count, ms, table } from "./lib/markdown.js";
import { type PinnedChild, startPinned } from "./lib/pinned-child.js";
import { processTreeCpuSeconds } from "./lib/process-tree-cpu.js";

const SETUP = {
  googleCore: 0,
  stewardCore: 1,
  /** Sign-ins in each measured run; each side runs `rounds` times, interleaved. */
  signIns: Number(process.env.BENCH_SIGNINS ?? 500),
  rounds: 2,
  warmUp: 100,
  /** Sign-ins in flight: many users signing in at once, each waiting for its answer. */
  connections: 16,
};
/** Steward's time per sign-in at most this multiple of the emulator's exchange alone. */
const TARGET_RATIO = 1.3;

interface ServiceReady {
  url: string;
  sub: string;
  probe: { status: number; body: string };
}

interface Run {
  load: LoadResult;
  /** CPU seconds per sign-in of the emulator, and of Steward with its PostgreSQL. */
  emulatorCpuMs: number;
  stewardCpuMs: number;
}

export default async function run(): Promise<string> {
  const loadBefore = loadavg()[0] as number;
  const emulator = await startPinned<EmulatorEndpoint>({
    core: SETUP.googleCore,
    script: "servers/emulator-server.ts",
  });
  const children: PinnedChild<unknown>[] = [emulator];
  try {
    const steward = await startPinned<ServiceReady>({
      core: SETUP.stewardCore,
      script: "servers/steward-service.ts",
      env: {
        STEWARD_ADMIN_TOKEN: randomBytes(32).toString("base64url"),
        BENCH_GOOGLE_URL: emulator.ready.url,
        BENCH_GOOGLE_CLIENT_ID: emulator.ready.clientId,
        BENCH_GOOGLE_CLIENT_SECRET: emulator.ready.clientSecret,
        BENCH_RATE_LIMIT_PER_MINUTE: String(1_000_000_000),
      },
      timeoutMs: 120_000,
    });
    children.push(steward);
    if (steward.ready.probe.status !== 200) {
      throw new Error(`the service's first sign-in failed: ${steward.ready.probe.body}`);
    }
    const { value, pinned } = await whilePinnedTo(SETUP.googleCore, () =>
      measure(emulator, steward),
    );
    return report(value, {
      loadBefore,
      loadAfter: loadavg()[0] as number,
      pinned,
      mintSeconds: value.mintSeconds,
    });
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

async function measure(
  emulator: PinnedChild<EmulatorEndpoint>,
  steward: PinnedChild<ServiceReady>,
) {
  const endpoint = emulator.ready;
  const needed = 2 * (SETUP.warmUp + SETUP.rounds * SETUP.signIns);
  const mintStartedAt = performance.now();
  const codes = await mintCodes(endpoint, needed, "bench-sign-in");
  const mintSeconds = (performance.now() - mintStartedAt) / 1000;
  const take = (amount: number) => codes.splice(0, amount);
  const exchangeAlone = (batch: string[]) =>
    timed(emulator.pid, steward.pid, () =>
      postForms({
        url: `${endpoint.url}/token`,
        serverPid: emulator.pid,
        durationSeconds: 120,
        amount: batch.length,
        connections: SETUP.connections,
        body: {
          kind: "perRequest",
          next: () => next(batch, (code) => exchangeForm(endpoint, code)),
        },
      }),
    );
  const signIn = (batch: string[]) =>
    timed(emulator.pid, steward.pid, () =>
      postForms({
        url: `${steward.ready.url}/v1/auth/google/code`,
        serverPid: steward.pid,
        durationSeconds: 120,
        amount: batch.length,
        connections: SETUP.connections,
        headers: { "content-type": "application/json", "x-requested-with": "XMLHttpRequest" },
        body: { kind: "perRequest", next: () => next(batch, (code) => JSON.stringify({ code })) },
      }),
    );
  // Warm-up, not compared: sockets, JIT, PostgreSQL's caches, the emulator's first users.
  await exchangeAlone(take(SETUP.warmUp));
  await signIn(take(SETUP.warmUp));
  const rounds: Array<{ reference: Run; steward: Run }> = [];
  for (let round = 0; round < SETUP.rounds; round++) {
    const reference = await exchangeAlone(take(SETUP.signIns));
    rounds.push({ reference, steward: await signIn(take(SETUP.signIns)) });
  }
  return { rounds, mintSeconds, minted: needed };
}

function next(batch: string[], body: (code: string) => string): string | undefined {
  const code = batch.shift();
  return code === undefined ? undefined : body(code);
}

/** A run, with the CPU the emulator and Steward (its process and PostgreSQL's) spent per sign-in. */
async function timed(
  emulatorPid: number,
  stewardPid: number,
  work: () => Promise<LoadResult>,
): Promise<Run> {
  const before = { emulator: treeCpu(emulatorPid), steward: treeCpu(stewardPid) };
  const load = await work();
  const done = Math.max(1, load.total - load.errors);
  return {
    load,
    emulatorCpuMs: ((treeCpu(emulatorPid) - before.emulator) / done) * 1000,
    stewardCpuMs: ((treeCpu(stewardPid) - before.steward) / done) * 1000,
  };
}

/** CPU seconds of a process and all its descendants (Steward's embedded PostgreSQL). */
function treeCpu(pid: number): number {
  return processTreeCpuSeconds(pid);
}

interface Machine {
  loadBefore: number;
  loadAfter: number;
  pinned: boolean;
  mintSeconds: number;
}

function report(
  measured: { rounds: Array<{ reference: Run; steward: Run }> },
  machine: Machine,
): string {
  const perSignIn = (run: Run) => 1000 / run.load.requestsPerSecond;
  const ratios = measured.rounds.map(
    (round) => perSignIn(round.steward) / perSignIn(round.reference),
  );
  const ratio = ratios.reduce((sum, value) => sum + value, 0) / ratios.length;
  const errors = measured.rounds.reduce(
    (sum, round) => sum + round.steward.load.errors + round.reference.load.errors,
    0,
  );
  const meets = ratio <= TARGET_RATIO && errors === 0;
  const added = `${Math.round((ratio - 1) * 100)}%`;
  const verdict = meets
    ? `meets: Steward adds ${added}`
    : `**misses**: Steward adds ${added}, ${Math.round((ratio - TARGET_RATIO) * 100)} points over${errors > 0 ? `, ${errors} errors` : ""}`;
  const rows = measured.rounds.flatMap((round, index) => [
    row(
      `emulator \`POST /token\`, code exchange alone (reference), round ${index + 1}`,
      round.reference,
      "1.00x",
    ),
    row(
      `Steward \`POST /v1/auth/google/code\`, round ${index + 1}`,
      round.steward,
      `${(perSignIn(round.steward) / perSignIn(round.reference)).toFixed(2)}x`,
    ),
  ]);
  return [
    "## Sign-in end to end",
    "",
    "Source: `bench/sign-in.bench.ts` (run alone: `npm run bench sign-in`).",
    `Target: a sign-in through Steward (exchange at the emulator, ID-token check, seal, one transaction)`,
    `takes at most ${Math.round((TARGET_RATIO - 1) * 100)}% more time per sign-in than the emulator's code exchange alone,`,
    `at the same concurrency. Verdict: ${verdict} (${ratio.toFixed(2)}x, mean of the rounds' ratios).`,
    "",
    table(
      [
        "run",
        "sign-ins/s",
        "time per sign-in",
        "p50",
        "p99",
        "errors",
        "emulator CPU per sign-in",
        "Steward + PostgreSQL CPU per sign-in",
        "vs exchange alone",
      ],
      rows,
    ),
    "",
    `Each run: ${count(SETUP.signIns)} sign-ins, ${SETUP.connections} in flight (autocannon), every one a new user's first`,
    "consent (a serverAuthCode minted beforehand through the emulator's SDK sign-in, used once),",
    `${SETUP.rounds} rounds, reference then Steward, after ${SETUP.warmUp} unmeasured sign-ins on each side.`,
    "Time per sign-in is the run's wall time divided by its sign-ins (1 / rate); the ratio is Steward's over",
    "the reference run just before it. Steward runs as `steward serve` does (embedded PostgreSQL, logs at info",
    "to /dev/null) against the emulator in its own process (`STEWARD_GOOGLE=<url>`), with the sign-in route's",
    "per-address rate limit raised, since all the load comes from one address (the limiter still runs).",
    machine.pinned
      ? `The emulator and this process (the clients) on core ${SETUP.googleCore} in both runs; Steward and PostgreSQL on core ${SETUP.stewardCore}.`
      : "**`taskset` failed: nothing was pinned.**",
    "CPU per sign-in: each side's CPU time (from /proc, PostgreSQL's processes counted with Steward) over the sign-ins.",
    ...why(measured.rounds),
    `Codes minted in ${machine.mintSeconds.toFixed(1)} s. 1-minute load average ${machine.loadBefore.toFixed(2)} before, ${machine.loadAfter.toFixed(2)} after`,
    "(the machine is shared: compare rows of one run).",
  ].join("\n");
}

/** Which core limited the sign-ins, from the CPU each side spent per sign-in. */
function why(rounds: ReadonlyArray<{ reference: Run; steward: Run }>): string[] {
  const mean = (pick: (round: { reference: Run; steward: Run }) => number) =>
    rounds.reduce((sum, round) => sum + pick(round), 0) / rounds.length;
  const steward = mean((round) => round.steward.stewardCpuMs);
  const emulator = mean((round) => round.steward.emulatorCpuMs);
  return [
    `Why: per sign-in Steward and its PostgreSQL spent ${steward.toFixed(2)} ms of CPU on their core, the emulator ${emulator.toFixed(2)} ms on its;`,
    steward > emulator
      ? "Steward's core, not the emulator's, set the pace. A CPU profile of the service during sign-ins (2026-12-07) puts most of its time in"
      : "the emulator's core set the pace, and Steward's share is the latency it adds. A CPU profile of the service during sign-ins (2026-12-07) puts most of its time in",
    "PostgreSQL round trips (the user's advisory lock, BEGIN, the user upsert, the credential upsert, the outbox and audit inserts,",
    "COMMIT, the unlock: each a write to the socket and a wake-up), then the code exchange over HTTP and the ID-token check.",
  ];
}

function row(name: string, run: Run, ratio: string): string[] {
  const { load } = run;
  return [
    name,
    count(load.requestsPerSecond),
    `${(1000 / load.requestsPerSecond).toFixed(2)} ms`,
    ms(load.p50Ms),
    ms(load.p99Ms),
    count(load.errors),
    `${run.emulatorCpuMs.toFixed(2)} ms`,
    `${run.stewardCpuMs.toFixed(2)} ms`,
    ratio,
  ];
}
