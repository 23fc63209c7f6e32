import { readFileSync } from "node:fs";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StewardError } from "../errors.js";

/** Who holds a data directory, as written into its `steward.lock`. */
export interface LockOwner {
  readonly pid: number;
  /** What the holder runs, e.g. `steward start`. */
  readonly purpose: string;
  readonly startedAt: string;
  /** Linux: the boot and the process start time, so a recycled pid is not mistaken for us. */
  readonly bootId?: string | undefined;
  readonly processStart?: string | undefined;
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "steward.lock";

/**
 * Claims a data directory for this process, so that two Steward processes never run one
 * embedded PostgreSQL. A lock left by a process that died (even by SIGKILL) is taken over.
 *
 * @param purpose what this process is, shown to a second one, e.g. `steward start`
 * @returns the lock, or the live owner when another process holds it
 * @example
 *   const claim = await claimDataDir(".steward", "steward start");
 *   if ("owner" in claim) console.log(`pid ${claim.owner.pid} runs there`);
 */
export async function claimDataDir(
  dataDir: string,
  purpose: string,
): Promise<DataDirLock | { owner: LockOwner }> {
  const path = join(dataDir, LOCK_FILE);
  const mine: LockOwner = {
    pid: process.pid,
    purpose,
    startedAt: new Date().toISOString(),
    ...processIdentity(process.pid),
  };
  // Write the whole file under a private name, then link it into place: link() fails if the
  // lock exists, so the claim is atomic and a reader never sees a half-written file.
  const staging = `${path}.${process.pid}.${Date.now()}`;
  await writeFile(staging, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(staging, path);
        return { path, release: () => releaseIfMine(path) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = await readOwner(path);
      if (owner !== undefined && isAlive(owner)) return { owner };
      await unlink(path).catch(() => undefined);
    }
    throw new StewardError("data_dir_locked", {
      message: `Could not lock the data directory ${dataDir}: another process keeps claiming it.`,
    });
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/**
 * The live owner of a data directory's lock, if any.
 *
 * @example
 *   const owner = await dataDirOwner(".steward"); // undefined when nothing runs there
 */
export async function dataDirOwner(dataDir: string): Promise<LockOwner | undefined> {
  const owner = await readOwner(join(dataDir, LOCK_FILE));
  return owner !== undefined && isAlive(owner) ? owner : undefined;
}

async function releaseIfMine(path: string): Promise<void> {
  const owner = await readOwner(path);
  if (owner?.pid === process.pid) await unlink(path).catch(() => undefined);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as LockOwner;
    return typeof parsed.pid === "number" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid is in use; on Linux make sure it is still the same process and not a recycled pid
  // (after a container restart pids start over).
  const now = processIdentity(owner.pid);
  if (owner.bootId === undefined || now.bootId === undefined) return true;
  return owner.bootId === now.bootId && owner.processStart === now.processStart;
}

function processIdentity(pid: number): { bootId?: string; processStart?: string } {
  try {
    const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (start time); the command name in field 2 may hold spaces, so count from ')'.
    const processStart = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return { bootId, processStart };
  } catch {
    return {};
  }
}
