import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StewardError } from "../errors.js";
import type { VaultLogger } from "../shared/index.js";

/**
 * Stops a PostgreSQL server still running on `clusterDir` although the process that started it
 * is gone: a Steward killed with SIGKILL cannot stop its embedded server, which then keeps the
 * cluster locked. Only called once the data dir's own lock shows its owner is dead.
 *
 * Sends SIGINT (PostgreSQL's fast shutdown: open transactions roll back, data is flushed) and
 * waits until the server removes its `postmaster.pid`.
 *
 * @throws StewardError `database_unavailable` when it does not stop within `timeoutMs`.
 */
export async function stopOrphanedPostmaster(
  clusterDir: string,
  logger: VaultLogger,
  timeoutMs: number,
): Promise<void> {
  const pidFile = join(clusterDir, "postmaster.pid");
  const pid = postmasterPid(pidFile);
  if (pid === undefined || !runsCluster(pid, clusterDir)) return;
  logger.warn({ pid, clusterDir }, "stopping an embedded PostgreSQL left by a Steward that died");
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (existsSync(pidFile) && runsCluster(pid, clusterDir)) {
    if (Date.now() > deadline) {
      throw new StewardError("database_unavailable", {
        message: `An embedded PostgreSQL (pid ${pid}) left on ${clusterDir} does not stop.`,
      });
    }
    await sleep(50);
  }
}

function postmasterPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live (not zombie) postgres serving `clusterDir`. */
function runsCluster(pid: number, clusterDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return commandLine.includes(clusterDir);
  } catch {
    // No /proc (macOS): trust postmaster.pid, as PostgreSQL itself does.
    return true;
  }
}
