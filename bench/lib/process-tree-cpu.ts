import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/**
 * CPU seconds used so far by the descendants of `root` (not `root` itself), leaving out the
 * subtrees of `exclude`: e.g. an embedded PostgreSQL's postmaster and backends. Counts each
 * process's own time and the time of children it has reaped (a backend that exited), so the
 * difference of two readings covers processes that came and went between them. 0 without /proc.
 */
export function descendantsCpuSeconds(root: number, exclude: readonly number[] = []): number {
  return treeCpuSeconds(root, exclude, false);
}

/** CPU seconds used so far by `root` and its descendants (counted as {@link descendantsCpuSeconds} does). */
export function processTreeCpuSeconds(root: number): number {
  return treeCpuSeconds(root, [], true);
}

function treeCpuSeconds(root: number, exclude: readonly number[], withRoot: boolean): number {
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    const stats = new Map<number, string[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        stats.set(Number(entry), stat.slice(stat.lastIndexOf(")") + 2).split(" "));
      } catch {
        // The process ended meanwhile.
      }
    }
    const children = new Map<number, number[]>();
    for (const [pid, fields] of stats) {
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    }
    let ticks = 0;
    const stack = withRoot ? [root] : [...(children.get(root) ?? [])];
    while (stack.length > 0) {
      const pid = stack.pop() as number;
      if (exclude.includes(pid)) continue;
      const fields = stats.get(pid) ?? [];
      // utime, stime, cutime, cstime: fields 14 to 17 of /proc/PID/stat.
      ticks += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
      stack.push(...(children.get(pid) ?? []));
    }
    return ticks / ticksPerSecond;
  } catch {
    return 0;
  }
}
