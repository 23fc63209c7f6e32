import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import {
  attachEmbeddedPostgres,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from "../embedded-postgres/index.js";
import { StewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import { type Listening, listen, type OnNotify } from "./listener.js";
import type { VaultSchema } from "./schema.js";

export interface DatabaseOptions {
  /** `DATABASE_URL`. Unset or empty: the embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** `STEWARD_DATA_DIR`, `./.steward` by default; used only for the embedded PostgreSQL. */
  readonly dataDir?: string | undefined;
  readonly logger?: VaultLogger | undefined;
  /** What this process is, shown to a second one on the same data dir, e.g. `steward start`. */
  readonly purpose?: string | undefined;
  /**
   * When another live Steward runs the embedded PostgreSQL of `dataDir`: `fail` (the default,
   * for the service) or `attach` to it (for CLI commands that work beside a running service).
   */
  readonly whenDataDirInUse?: "fail" | "attach" | undefined;
  /** Create the embedded cluster when missing (default true). */
  readonly createIfMissing?: boolean | undefined;
  /** See {@link EmbeddedPostgresOptions.handleSignals}; true by default. */
  readonly handleSignals?: boolean | undefined;
  /** Connections in the pool; 10 by default. */
  readonly poolSize?: number | undefined;
}

/** An open connection pool to Steward's PostgreSQL. */
export interface Database {
  readonly db: Kysely<VaultSchema>;
  /** Where the database is, safe to log (no password). */
  readonly description: string;
  /** The embedded server, when `DATABASE_URL` was unset. */
  readonly embedded: EmbeddedPostgres | undefined;
  /**
   * Calls `onNotify` with the payload of each `NOTIFY` on `channel`, on a connection of its own
   * that is reopened when lost (then `onNotify(undefined)`; see {@link listen}). Close it before
   * the database.
   */
  listen(channel: string, onNotify: OnNotify): Listening;
  /** Closes the pool, then stops the embedded server if this process started it. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = ".steward";

/**
 * Connects to `DATABASE_URL`, or, when it is unset, to the embedded PostgreSQL in the data dir
 * (started, or attached to, as the options say). Nothing is migrated here; see `openVault`.
 *
 * @throws StewardError `database_unavailable` when the database cannot be reached (the message
 *   names `DATABASE_URL` without its password); `data_dir_locked` from the embedded start.
 * @example
 *   const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
 *   await database.db.selectFrom("users").selectAll().execute();
 *   await database.close();
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const logger = options.logger ?? silentLogger;
  const url = options.databaseUrl?.trim() ?? "";
  const poolSize = options.poolSize ?? 10;
  if (url !== "") {
    const settings = { connectionString: url };
    const pool = new pg.Pool({ ...settings, max: poolSize });
    return connect(pool, settings, `DATABASE_URL (${redact(url)})`, undefined, logger);
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  let embedded: EmbeddedPostgres | undefined;
  if (options.whenDataDirInUse === "attach") embedded = await attachEmbeddedPostgres(dataDir);
  embedded ??= await startEmbeddedPostgres({
    dataDir,
    purpose: options.purpose,
    logger,
    createIfMissing: options.createIfMissing,
    handleSignals: options.handleSignals,
  });
  const settings = embedded.connection();
  const pool = new pg.Pool({ ...settings, max: poolSize });
  const description = `the embedded PostgreSQL in ${embedded.dataDir} (port ${embedded.port})`;
  return connect(pool, settings, description, embedded, logger);
}

async function connect(
  pool: pg.Pool,
  settings: pg.ClientConfig,
  description: string,
  embedded: EmbeddedPostgres | undefined,
  logger: VaultLogger,
): Promise<Database> {
  // An idle connection dies when the server stops or restarts; pg then emits 'error' on the
  // pool, which would crash the process if nobody listened.
  pool.on("error", (error: Error & { code?: string }) => {
    logger.warn({ code: error.code, database: description }, "an idle database connection failed");
  });
  // A connection in use when the server goes away emits 'error' on its client, which the pool
  // listens to only while idle: unheard, it would crash the process. The statement under way
  // fails with it anyway, and the pool drops the broken client when it is released.
  pool.on("connect", (client) => client.on("error", ignoreConnectionError));
  const db = new Kysely<VaultSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await db.destroy().catch(() => undefined);
    await embedded?.stop();
    throw new StewardError("database_unavailable", {
      message: `Cannot connect to ${description}: ${(cause as Error).message}`,
      cause,
    });
  }
  let closed: Promise<void> | undefined;
  return {
    db,
    description,
    embedded,
    listen: (channel, onNotify) => listen(settings, channel, onNotify, logger),
    close: () => {
      closed ??= (async () => {
        await db.destroy();
        await embedded?.stop();
      })();
      return closed;
    },
  };
}

/** `postgres://user:secret@host:5432/db?x=y` -> `postgres://host:5432/db`. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "unparseable";
  }
}

function ignoreConnectionError(): void {}
