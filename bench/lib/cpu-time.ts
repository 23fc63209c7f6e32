import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** CPU seconds (user + system) a process has used so far, from /proc; undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` and reports how busy process `pid` was meanwhile, as a share of one core: near 1
 * means the server was the limit, well below 1 means the load generator (or the network) was.
 */
export async function withBusyShare<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ value: T; busyShare: number | undefined }> {
  const cpuBefore = cpuSeconds(pid);
  const startedAt = performance.now();
  const value = await work();
  const cpuAfter = cpuSeconds(pid);
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const busyShare =
    cpuBefore === undefined || cpuAfter === undefined
      ? undefined
      : (cpuAfter - cpuBefore) / wallSeconds;
  return { value, busyShare };
}
