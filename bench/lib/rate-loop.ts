// Calls per second of an async step run in this process, wall-clock and per CPU-second of the
// process (every thread: WebCrypto's work runs on libuv's pool, and counts).

export interface LoopRate {
  perSecond: number;
  perCpuSecond: number;
}

/** Runs `step` for `ms` milliseconds with `inFlight` calls outstanding at any time. */
export async function loopRate(
  step: (index: number) => unknown,
  options: { ms: number; inFlight: number },
): Promise<LoopRate> {
  let calls = 0;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const endAt = startedAt + options.ms;
  const worker = async () => {
    while (performance.now() < endAt) {
      await step(calls++);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: calls / ((performance.now() - startedAt) / 1000),
    perCpuSecond: calls / ((cpu.user + cpu.system) / 1e6),
  };
}

/** Runs each loop `rounds` times, interleaved (a, b, c, a, b, c, ...), so drift hits all alike. */
export async function interleavedRates<Name extends string>(
  loops: Record<Name, { step: (index: number) => unknown; inFlight: number }>,
  options: { rounds: number; ms: number },
): Promise<Record<Name, LoopRate[]>> {
  const names = Object.keys(loops) as Name[];
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<
    Name,
    LoopRate[]
  >;
  for (let round = 0; round < options.rounds; round++) {
    for (const name of names) {
      const { step, inFlight } = loops[name];
      results[name].push(await loopRate(step, { ms: options.ms, inFlight }));
    }
  }
  return results;
}

/** The median of some numbers (the upper one of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
