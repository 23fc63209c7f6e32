import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
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
  /** Unique to one claim: no two lock files are ever alike. */
  readonly claimId?: string | undefined;
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "steward.lock";

/** Tries before giving up on a lock that keeps changing hands, and the pause between them. */
const MAX_ATTEMPTS = 100;
const BUSY_WAIT_MS = 20;

/**
 * Claims a data directory for this process, so that two Steward processes never run one
 * embedded PostgreSQL. A lock left by a process that died (even by SIGKILL) is taken over, by
 * one process only however many try at once (see {@link removeStale}).
 *
 * @param purpose what this process is, shown to a second one, e.g. `steward start`
 * @returns the lock, or the live owner when another process holds it
 * @throws StewardError `data_dir_locked` when the lock keeps changing hands.
 * @example
 *   const claim = await claimDataDir(".steward", "steward start");
 *   if ("owner" in claim) console.log(`pid ${claim.owner.pid} runs there`);
 */
export async function claimDataDir(
  dataDir: string,
  purpose: string,
): Promise<DataDirLock | { owner: LockOwner }> {
  const path = join(dataDir, LOCK_FILE);
  const mine = ownerFile(purpose);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await createExclusive(path, mine)) {
      return { path, release: () => releaseIfMine(path, mine) };
    }
    const found = await readLock(path);
    if (found === undefined) continue; // released meanwhile
    if (found.owner !== undefined && isAlive(found.owner)) return { owner: found.owner };
    if (!(await removeStale(path, found.text))) await sleep(BUSY_WAIT_MS);
  }
  throw new StewardError("data_dir_locked", {
    message: `Could not lock the data directory ${dataDir}: another process keeps claiming it.`,
  });
}

/**
 * The live owner of a data directory's lock, if any.
 *
 * @example
 *   const owner = await dataDirOwner(".steward"); // undefined when nothing runs there
 */
export async function dataDirOwner(dataDir: string): Promise<LockOwner | undefined> {
  const owner = (await readLock(join(dataDir, LOCK_FILE)))?.owner;
  return owner !== undefined && isAlive(owner) ? owner : undefined;
}

/**
 * Removes the lock file at `path` if it still is `staleText`, never a file a faster taker put in
 * its place. POSIX has no compare-and-delete, so the removal is done by whoever creates the
 * takeover guard named after that very content (`O_EXCL` semantics through link()): it reads
 * the file again while no one else can remove it, and removes it only if unchanged. A guard
 * left by a taker that died holding it is stale in turn, and removed the same way.
 *
 * @returns whether this call removed it; false: someone else is on it, or did it already.
 */
async function removeStale(path: string, staleText: string): Promise<boolean> {
  const digest = createHash("sha256").update(staleText).digest("hex").slice(0, 16);
  const guard = `${path}.takeover-${digest}`;
  if (!(await createExclusive(guard, ownerFile("takeover")))) {
    const holder = await readLock(guard);
    if (holder !== undefined && !(holder.owner !== undefined && isAlive(holder.owner))) {
      await removeStale(guard, holder.text);
    }
    return false;
  }
  try {
    if ((await readLock(path))?.text !== staleText) return false;
    await unlink(path).catch(ignoreMissing);
    return true;
  } finally {
    await unlink(guard).catch(ignoreMissing);
  }
}

/**
 * Creates `path` holding `text` if nothing is there: the text is written under a private name,
 * then linked into place. link() fails if the file exists, so the creation is atomic and a
 * reader never sees a half-written file.
 */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const staging = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(staging, text, { mode: 0o600 });
  try {
    await link(staging, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    await unlink(staging).catch(ignoreMissing);
  }
}

function ownerFile(purpose: string): string {
  const owner: LockOwner = {
    pid: process.pid,
    purpose,
    startedAt: new Date().toISOString(),
    ...processIdentity(process.pid),
    claimId: randomUUID(),
  };
  return `${JSON.stringify(owner)}\n`;
}

async function releaseIfMine(path: string, mine: string): Promise<void> {
  // Only this process removes its own live lock: no one else may while it is alive.
  if ((await readLock(path))?.text === mine) await unlink(path).catch(ignoreMissing);
}

/** The file's text and the owner it names (undefined when unreadable: a stale leftover). */
async function readLock(
  path: string,
): Promise<{ text: string; owner: LockOwner | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as LockOwner;
    return { text, owner: typeof parsed.pid === "number" ? parsed : undefined };
  } catch {
    return { text, owner: undefined };
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
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
