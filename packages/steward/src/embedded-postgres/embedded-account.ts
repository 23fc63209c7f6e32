import { execFile, spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { StewardError } from "../errors.js";

/**
 * The account PostgreSQL runs as when Steward runs as root (initdb and postgres refuse root),
 * and what that account can reach. Every path PostgreSQL opens must be reachable by it: its
 * binaries, the data dir and each folder above them.
 */

const run = promisify(execFile);

/** The `postgres` user and its primary group; a spawned child gets no other groups. */
export interface PostgresAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

const NAME = "postgres";
let account: Promise<PostgresAccount> | undefined;

/**
 * The `postgres` account, created (system user and group, no home) when missing.
 *
 * @throws StewardError `database_unavailable` when it is missing and cannot be created.
 */
export function postgresAccount(): Promise<PostgresAccount> {
  account ??= findOrCreate().catch((error: unknown) => {
    account = undefined;
    throw error;
  });
  return account;
}

async function findOrCreate(): Promise<PostgresAccount> {
  const found = await lookUp();
  if (found !== undefined) return found;
  try {
    // -f: fine if the group exists already (e.g. left by a removed user).
    await run("groupadd", ["-f", "--system", NAME]);
    await run("useradd", ["--system", "--gid", NAME, "--no-create-home", NAME]);
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message:
        `As root, Steward runs PostgreSQL as the "${NAME}" user, which does not exist and ` +
        "could not be created. Create it, or run Steward as another user.",
      cause,
    });
  }
  const created = await lookUp();
  if (created === undefined) {
    throw new StewardError("database_unavailable", {
      message: `The "${NAME}" user was created but cannot be found.`,
    });
  }
  return created;
}

async function lookUp(): Promise<PostgresAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", NAME]), run("id", ["-g", NAME])]);
    return { name: NAME, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `account` can search `path` (a folder) or execute it (a file), asking the kernel
 * itself (mode bits, ACLs, every folder above) through `test -x` run as that account.
 * When the check itself cannot run, answers true and leaves PostgreSQL to report.
 */
export function accessibleTo(account: PostgresAccount, path: string): boolean {
  const result = spawnSync("/bin/sh", ["-c", 'test -x "$1"', "steward", path], {
    uid: account.uid,
    gid: account.gid,
    cwd: "/",
    stdio: "ignore",
    timeout: 10_000,
  });
  return result.error !== undefined || result.status === 0;
}

/**
 * The first folder on the way to `path` (from `/` down, `path` included) that `account`
 * cannot search; undefined when it reaches `path`.
 */
export function firstClosedFolder(account: PostgresAccount, path: string): string | undefined {
  if (accessibleTo(account, path)) return undefined;
  const chain: string[] = [];
  for (let folder = path; ; folder = dirname(folder)) {
    chain.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  return chain.find((folder) => !accessibleTo(account, folder)) ?? path;
}
