import { type ControlledTransaction, type Kysely, sql } from "kysely";
import { isStewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import type { VaultSchema } from "../store/schema.js";
import { resealField, type SealedField } from "./credential-codec.js";
import type { Keyring } from "./keyring.js";

export interface RotationProgress {
  /** Credentials handled so far (re-sealed or failed). */
  readonly done: number;
  /** Credentials not under the active key when the rotation began. */
  readonly total: number;
  readonly failed: number;
}

export interface RotationOptions {
  /** Credentials re-sealed per transaction; 1,000 by default. */
  readonly batchSize?: number | undefined;
  readonly logger?: VaultLogger | undefined;
  /** Called after every committed batch. */
  readonly onProgress?: ((progress: RotationProgress) => void) | undefined;
  /** Stops after the batch in progress; running again continues where it stopped. */
  readonly signal?: AbortSignal | undefined;
}

export interface RotationSummary {
  readonly activeKid: string;
  readonly total: number;
  readonly rotated: number;
  /** The subs whose credential could not be opened (logged by sub and kid); left as they were. */
  readonly failed: readonly string[];
  readonly interrupted: boolean;
  readonly durationMs: number;
}

interface SealedRow {
  sub: string;
  refresh_token: Buffer | null;
  refresh_kid: string | null;
  access_token: Buffer | null;
  access_kid: string | null;
}

/**
 * Re-seals every credential not sealed with the keyring's active key, in batches of one
 * transaction each (`SELECT ... FOR UPDATE`, then one `UPDATE`). A batch commits whole or not
 * at all, so a rotation killed at any point leaves every credential readable with the ring,
 * and running it again continues with what is left. Readers and writers keep working
 * meanwhile: any key of the ring opens, and writers seal with the active key. An access token
 * sealed with an old key, or expired, is dropped rather than re-sealed (it is only a cache).
 *
 * Three batches are in flight on three connections: PostgreSQL reads the next and writes the
 * previous while Node re-seals the current one, so both cores work. Batches commit without
 * waiting for the disk (`synchronous_commit = off`): a crash can only undo the last few, whose
 * credentials then stay sealed with their old key, still in the ring, and are re-sealed by the
 * next run. The final `keys.rotated` audit event commits durably, and with it every batch.
 *
 * Callers run `assertKeyringCoversStoredKids` first; a credential that does not open (tampered,
 * or its key missing) is logged by sub and kid, left as it is, and listed in the summary.
 *
 * @example
 *   const summary = await rotateCredentials(db, keyring, { onProgress: (p) => bar.update(p.done) });
 *   console.log(`${summary.rotated} re-sealed under ${summary.activeKid}`);
 */
export async function rotateCredentials(
  db: Kysely<VaultSchema>,
  keyring: Keyring,
  options: RotationOptions = {},
): Promise<RotationSummary> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) {
    throw new TypeError("batchSize must be an integer from 1 to 50000");
  }
  const logger = options.logger ?? silentLogger;
  const active = keyring.activeKid;
  const started = performance.now();
  const total = await countStale(db, active);
  const failed: string[] = [];
  let rotated = 0;
  let interrupted = false;
  const readAfter = (sub: string) => {
    const batch = readBatch(db, active, sub, batchSize);
    batch.catch(() => undefined); // awaited in the next round or in `finally`
    return batch;
  };
  let reading: Promise<LockedBatch | undefined> | undefined = readAfter("");
  let writing: Promise<void> = Promise.resolve();
  try {
    while (reading !== undefined) {
      const batch = await reading;
      reading = undefined;
      if (batch === undefined) break;
      if (options.signal?.aborted) {
        interrupted = true;
        await batch.trx.rollback().execute();
        break;
      }
      reading = readAfter((batch.rows.at(-1) as StoredRow).sub);
      let resealed: ReturnType<typeof reseal>;
      try {
        resealed = reseal(batch.rows, keyring, logger);
        await writing;
      } catch (error) {
        await batch.trx
          .rollback()
          .execute()
          .catch(() => undefined);
        throw error;
      }
      writing = writeBatch(batch.trx, resealed.rows).then(() => {
        rotated += resealed.rows.length;
        failed.push(...resealed.failed);
        options.onProgress?.({ done: rotated + failed.length, total, failed: failed.length });
      });
      writing.catch(() => undefined); // awaited before the next write or below
    }
  } finally {
    const unread = await reading?.catch(() => undefined);
    await unread?.trx
      .rollback()
      .execute()
      .catch(() => undefined);
    await writing.catch(() => undefined);
  }
  await writing;
  const durationMs = Math.round(performance.now() - started);
  const outcome = {
    activeKid: active,
    total,
    rotated,
    failed: failed.length,
    interrupted,
    durationMs,
  };
  if (total > 0) {
    await db
      .insertInto("audit_events")
      .values({ type: "keys.rotated", actor: "system", sub: null, data: JSON.stringify(outcome) })
      .execute();
  }
  logger.info(outcome, "credential rotation finished");
  return { activeKid: active, total, rotated, failed, interrupted, durationMs };
}

interface StoredRow extends SealedRow {
  access_expired: boolean | null;
}

/** A batch's rows, locked by its still open transaction. */
interface LockedBatch {
  readonly trx: ControlledTransaction<VaultSchema>;
  readonly rows: readonly StoredRow[];
}

/** Opens a transaction and locks the next batch after `after`; undefined when none is left. */
async function readBatch(
  db: Kysely<VaultSchema>,
  active: string,
  after: string,
  batchSize: number,
): Promise<LockedBatch | undefined> {
  const trx = await db.startTransaction().execute();
  try {
    await sql`SET LOCAL synchronous_commit = off`.execute(trx);
    const result = await sql<StoredRow>`
      SELECT sub, refresh_token, refresh_kid, access_token, access_kid,
             access_token_expires_at <= now() AS access_expired
      FROM credentials
      WHERE sub > ${after} AND (refresh_kid <> ${active} OR access_kid <> ${active})
      ORDER BY sub
      LIMIT ${batchSize}
      FOR UPDATE`.execute(trx);
    if (result.rows.length > 0) return { trx, rows: result.rows };
    await trx.rollback().execute();
    return undefined;
  } catch (error) {
    await trx
      .rollback()
      .execute()
      .catch(() => undefined);
    throw error;
  }
}

/** How many credentials have a token not sealed with `activeKid`. */
async function countStale(db: Kysely<VaultSchema>, activeKid: string): Promise<number> {
  const result = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM credentials
    WHERE refresh_kid <> ${activeKid} OR access_kid <> ${activeKid}`.execute(db);
  return result.rows[0]?.count ?? 0;
}

function reseal(
  rows: readonly StoredRow[],
  keyring: Keyring,
  logger: VaultLogger,
): { rows: SealedRow[]; failed: string[] } {
  const resealed: SealedRow[] = [];
  const failed: string[] = [];
  const again = (sub: string, field: SealedField, sealed: Buffer | null, kid: string | null) => {
    if (sealed === null || kid === keyring.activeKid) return { sealed, kid };
    return resealField(keyring, logger, sub, field, sealed, kid);
  };
  for (const row of rows) {
    try {
      const refresh = again(row.sub, "refresh_token", row.refresh_token, row.refresh_kid);
      // An access token is only a cache of at most an hour: one sealed with an old key is
      // dropped (the next call refreshes once) rather than re-sealed, so rotation re-seals one
      // secret per credential (bench/vault.bench.ts).
      const keep = !row.access_expired && row.access_kid === keyring.activeKid;
      const access = keep
        ? { sealed: row.access_token, kid: row.access_kid }
        : { sealed: null, kid: null };
      resealed.push({
        sub: row.sub,
        refresh_token: refresh.sealed,
        refresh_kid: refresh.kid,
        access_token: access.sealed,
        access_kid: access.kid,
      });
    } catch (error) {
      // openField has logged it by sub and kid; the row stays as it was.
      if (!isStewardError(error)) throw error;
      failed.push(row.sub);
    }
  }
  return { rows: resealed, failed };
}

/** Writes a batch's re-sealed values and commits its transaction (or rolls it back). */
async function writeBatch(
  trx: ControlledTransaction<VaultSchema>,
  rows: readonly SealedRow[],
): Promise<void> {
  try {
    if (rows.length > 0) {
      await sql`
        UPDATE credentials AS c SET
          refresh_token = v.refresh_token, refresh_kid = v.refresh_kid,
          access_token = v.access_token, access_kid = v.access_kid,
          access_token_expires_at = CASE WHEN v.access_token IS NULL THEN NULL
                                         ELSE c.access_token_expires_at END
        FROM unnest(
          ${rows.map((row) => row.sub)}::text[],
          ${rows.map((row) => row.refresh_token)}::bytea[],
          ${rows.map((row) => row.refresh_kid)}::text[],
          ${rows.map((row) => row.access_token)}::bytea[],
          ${rows.map((row) => row.access_kid)}::text[]
        ) AS v(sub, refresh_token, refresh_kid, access_token, access_kid)
        WHERE c.sub = v.sub`.execute(trx);
    }
    await trx.commit().execute();
  } catch (error) {
    await trx
      .rollback()
      .execute()
      .catch(() => undefined);
    throw error;
  }
}
