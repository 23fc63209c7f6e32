import { execFileSync } from "node:child_process";

/**
 * Runs `work` with this process (every thread: main, libuv pool, V8 helpers) pinned to `core`,
 * so the load generator never competes with the server on the core being measured. Restores
 * the previous CPU list afterwards. Returns whether pinning worked (it needs `taskset`).
 */
export async function whilePinnedTo<T>(
  core: number,
  work: () => Promise<T>,
): Promise<{ value: T; pinned: boolean }> {
  const previous = currentCpuList();
  const pinned = previous !== undefined && setCpuList(String(core));
  try {
    return { value: await work(), pinned };
  } finally {
    if (pinned && previous !== undefined) setCpuList(previous);
  }
}

function currentCpuList(): string | undefined {
  try {
    // "pid 123's current affinity list: 0,1"
    const output = execFileSync("taskset", ["-pc", String(process.pid)], { encoding: "utf8" });
    return output.split(":").at(-1)?.trim() || undefined;
  } catch {
    return undefined;
  }
}

function setCpuList(list: string): boolean {
  try {
    execFileSync("taskset", ["-a", "-pc", list, String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
