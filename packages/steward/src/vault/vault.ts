import type { Keyring } from "../crypto/index.js";
import { assertKeyringCoversStoredKids } from "../crypto/index.js";
import { silentLogger } from "../shared/index.js";
import {
  type Database,
  type DatabaseOptions,
  migrate,
  openDatabase,
  PostgresStore,
  requireCurrentSchema,
  type VaultStore,
} from "../store/index.js";
import { SealingStore } from "./sealing-store.js";

export interface VaultOptions extends DatabaseOptions {
  readonly keyring: Keyring;
  /** See {@link PostgresStoreOptions.lockTimeoutMs}. */
  readonly lockTimeoutMs?: number | undefined;
  /** See {@link PostgresStoreOptions.queueEvents}. */
  readonly queueEvents?: boolean | undefined;
  /**
   * Whether to create or upgrade the schema (the service does). False: refuse a database whose
   * schema is missing or older, changing nothing (commands beside a service). Default true.
   */
  readonly migrate?: boolean | undefined;
}

/** Storage opened, checked against the keyring and migrated. */
export interface Vault {
  /** Seals and opens tokens with `keyring`; the PostgreSQL adapter below holds only ciphertext. */
  readonly store: VaultStore;
  readonly database: Database;
  readonly keyring: Keyring;
  /** Closes the pool and stops the embedded PostgreSQL if this process started it. */
  close(): Promise<void>;
}

/**
 * Opens Steward's storage the way start-up does: connect (or start the embedded PostgreSQL),
 * refuse a keyring that lacks a stored kid, then migrate.
 *
 * @throws StewardError `key_missing` (before anything is changed), `database_unavailable`,
 *   `data_dir_locked`.
 * @example
 *   const vault = await openVault({ databaseUrl: process.env.DATABASE_URL, keyring });
 *   await vault.store.upsertUser({ sub: "1234" });
 *   await vault.close();
 */
export async function openVault(options: VaultOptions): Promise<Vault> {
  const logger = options.logger ?? silentLogger;
  const database = await openDatabase(options);
  try {
    if (options.migrate === false) await requireCurrentSchema(database.db);
    await assertKeyringCoversStoredKids(database.db, options.keyring);
    if (options.migrate !== false) {
      const applied = await migrate(database.db);
      if (applied.length > 0) logger.info({ applied }, "database schema migrated");
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  const adapter = new PostgresStore(database.db, {
    logger,
    lockTimeoutMs: options.lockTimeoutMs,
    queueEvents: options.queueEvents,
  });
  const store = new SealingStore(adapter, options.keyring, logger);
  return { store, database, keyring: options.keyring, close: () => database.close() };
}
