import { setTimeout as sleep } from "node:timers/promises";

/**
 * Brackets `work` with SIGUSR2 to `pid`, which (in a server started with CPU_PROFILE_PATH, see
 * servers/emulator-server.ts) starts and then writes a CPU profile of just that window.
 * Does nothing unless `enabled`.
 */
export async function whileProfiling<T>(
  pid: number,
  enabled: boolean,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  process.kill(pid, "SIGUSR2");
  // Let the profiler start before the load does.
  await sleep(100);
  try {
    return await work();
  } finally {
    process.kill(pid, "SIGUSR2");
  }
}
