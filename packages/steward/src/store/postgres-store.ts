import { type Kysely, sql } from "kysely";
import { StewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import { checkAuditEvent, insertAuditEvents } from "./audit-rows.js";
import {
  CREDENTIAL_REVOKED_CHANNEL,
  checkEvents,
  checkOutcome,
  checkSealed,
  holdLocks,
  runLockedUsers,
  writeOutcomes,
} from "./credential-batch.js";
import { databaseUnavailable, isDatabaseDown } from "./database-errors.js";
import { insertOutboxEvents } from "./outbox-rows.js";
import type { VaultSchema } from "./schema.js";
import { findRefreshTokens, hasSecurityEvent, recordSecurityEvent } from "./security-events.js";
import type {
  AuditEvent,
  AuditEventInput,
  BeforeDeletion,
  CredentialInfo,
  DeletionRecord,
  ListOptions,
  LockedUsers,
  LockOptions,
  MarkRevokedOptions,
  RefreshTokenMatcher,
  SaveCredentialInput,
  SealedCredential,
  SealedStore,
  SealedToken,
  SecurityEventOutcome,
  SecurityEventRecord,
  SignInRecord,
  SignInRecordInput,
  User,
  UserProfile,
  UserRecord,
} from "./store.js";
import { checkLimit, checkSub } from "./store-checks.js";
import {
  type CredentialRow,
  selectUserRecords,
  toAuditEvent,
  toCredentialInfo,
  toSealedCredential,
  toUser,
  toUserRecord,
  upsertUserRow,
} from "./store-rows.js";

export interface PostgresStoreOptions {
  readonly logger?: VaultLogger | undefined;
  /**
   * How long a user's lock is waited for (`withLockedUsers` with `wait`, `saveCredential`,
   * `recordSignIn`, `deleteUser`), in ms; 30,000 by default.
   */
  readonly lockTimeoutMs?: number | undefined;
  /**
   * Write the events given with a change to the webhook outbox, in the change's transaction
   * (turn on when webhooks are configured: nothing else empties the outbox). Default false.
   */
  readonly queueEvents?: boolean | undefined;
}

/**
 * {@link SealedStore} on PostgreSQL through Kysely: it holds and passes tokens only as sealed
 * envelopes (the sealing store of `src/vault` seals and opens them) and has no key. Build it
 * through `openVault`, which also migrates the schema and puts the sealing store above it. A
 * credential marked revoked or expired, or a user deleted, is announced on
 * {@link CREDENTIAL_REVOKED_CHANNEL} when the change commits.
 *
 * @example
 *   const store = new PostgresStore(db, { keyring, logger });
 *   await store.upsertUser({ sub: "1234", email: "ada@example.com" });
 */
export class PostgresStore implements SealedStore {
  readonly #db: Kysely<VaultSchema>;
  readonly #logger: VaultLogger;
  readonly #lockTimeoutMs: number;
  readonly #queueEvents: boolean;

  constructor(db: Kysely<VaultSchema>, options: PostgresStoreOptions) {
    this.#db = db;
    this.#logger = options.logger ?? silentLogger;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#queueEvents = options.queueEvents ?? false;
    if (!Number.isInteger(this.#lockTimeoutMs) || this.#lockTimeoutMs < 1) {
      throw new TypeError("lockTimeoutMs must be a positive integer");
    }
  }

  async upsertUser(profile: UserProfile): Promise<User> {
    checkSub(profile.sub);
    return toUser(await upsertUserRow(this.#db, profile));
  }

  async getUser(sub: string): Promise<UserRecord | undefined> {
    checkSub(sub);
    const [record] = await selectUserRecords(this.#db).where("users.sub", "=", sub).execute();
    return record === undefined ? undefined : toUserRecord(record);
  }

  async listUsers(options: ListOptions = {}): Promise<UserRecord[]> {
    const limit = checkLimit(options.limit);
    let query = selectUserRecords(this.#db).orderBy("users.sub").limit(limit);
    if (options.after !== undefined) query = query.where("users.sub", ">", options.after);
    if (options.search !== undefined && options.search !== "") {
      // A prefix of the email (any case) or of the sub; the user's % and _ match themselves.
      const prefix = `${options.search.replace(/[\\%_]/g, "\\$&")}%`;
      query = query.where(
        sql<boolean>`(lower(users.email) LIKE ${prefix.toLowerCase()} OR users.sub LIKE ${prefix})`,
      );
    }
    return (await query.execute()).map(toUserRecord);
  }

  async deleteUser(sub: string, beforeDeletion?: BeforeDeletion<SealedToken>): Promise<boolean> {
    checkSub(sub);
    return this.#locked(sub, async (db) => {
      const user = await db
        .selectFrom("users")
        .select("sub")
        .where("sub", "=", sub)
        .executeTakeFirst();
      if (user === undefined) return false;
      let record: DeletionRecord = {};
      if (beforeDeletion !== undefined) {
        const row = await selectCredential(db, sub);
        record = await beforeDeletion(row === undefined ? undefined : toSealedCredential(row));
      }
      const audit = (record.audit ?? []).map((event) => ({ ...event, sub }));
      for (const event of audit) checkAuditEvent(event);
      checkEvents(record.events);
      await db.transaction().execute(async (transaction) => {
        // The NOTIFY is sent by the deleting statement, so it is delivered on commit.
        await sql`
          WITH deleted AS (DELETE FROM users WHERE sub = ${sub} RETURNING sub)
          SELECT sub, pg_notify(${CREDENTIAL_REVOKED_CHANNEL}, sub) FROM deleted`.execute(
          transaction,
        );
        await insertAuditEvents(transaction, audit);
        if (this.#queueEvents) await insertOutboxEvents(transaction, record.events ?? []);
      });
      return true;
    });
  }

  async recordSignIn(input: SignInRecordInput<SealedToken>): Promise<SignInRecord> {
    const { sub } = input.profile;
    checkSub(sub);
    const audit = { ...input.audit, sub };
    checkAuditEvent(audit);
    const credentialInput = { ...input.credential, sub };
    checkCredentialInput(credentialInput);
    try {
      return await this.#locked(sub, (db) =>
        db.transaction().execute(async (transaction) => {
          const user = toUser(
            await upsertUserRow(transaction, input.profile, {
              refreshToken: input.credential.refreshToken !== undefined,
            }),
          );
          const credential = await this.#writeCredential(transaction, credentialInput);
          await insertAuditEvents(transaction, [audit]);
          return { user, credential };
        }),
      );
    } catch (error) {
      if (isDatabaseDown(error)) throw databaseUnavailable("the sign-in was not stored", error);
      throw error;
    }
  }

  async ping(): Promise<void> {
    try {
      await sql`SELECT 1`.execute(this.#db);
    } catch (cause) {
      throw databaseUnavailable("SELECT 1 failed", cause);
    }
  }

  async saveCredential(
    input: SaveCredentialInput<SealedToken>,
  ): Promise<CredentialInfo | undefined> {
    checkSub(input.sub);
    checkCredentialInput(input);
    // The new grant and the events announcing it commit together.
    return this.#locked(input.sub, (db) =>
      db.transaction().execute((transaction) => this.#writeCredential(transaction, input)),
    );
  }

  /** saveCredential's writes, on `db` (a transaction holding the user's lock). */
  async #writeCredential(
    db: Kysely<VaultSchema>,
    input: SaveCredentialInput<SealedToken>,
  ): Promise<CredentialInfo | undefined> {
    const { sub } = input;
    const events = this.#queueEvents ? (input.events ?? []) : [];
    const scopes = [...input.grantedScopes];
    const access = input.accessToken && accessColumns(input.accessToken);
    if (input.refreshToken !== undefined) {
      const refresh = input.refreshToken;
      const fields = {
        status: "active" as const,
        refresh_token: refresh.sealed,
        refresh_kid: refresh.kid,
        access_token: access?.access_token ?? null,
        access_kid: access?.access_kid ?? null,
        access_token_expires_at: access?.access_token_expires_at ?? null,
        granted_scopes: scopes,
        revoked_reason: null,
        last_error: null,
      };
      const save = (db: Kysely<VaultSchema>) =>
        db
          .insertInto("credentials")
          .values({ sub, ...fields })
          .onConflict((conflict) =>
            conflict.column("sub").doUpdateSet({ ...fields, updated_at: sql`now()` }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
      try {
        const row = await save(db);
        await insertOutboxEvents(db, events);
        return toCredentialInfo(row);
      } catch (error) {
        if ((error as { code?: string }).code === "23503") throw userNotFound(sub, error);
        throw error;
      }
    }
    // No new refresh token: the stored one's grant still holds, and a code exchanged for fewer
    // scopes does not narrow it. The scopes become the union, and the access token is the new
    // one if it covers them, else the stored one if that does, else none (the next use
    // refreshes, and Google's answer then says what the grant holds).
    const union = sql<string[]>`ARRAY(
      SELECT s FROM unnest(granted_scopes || ${scopes}::text[]) WITH ORDINALITY AS t(s, n)
      GROUP BY s ORDER BY min(n))`;
    const accessColumn = <K extends "access_token" | "access_kid" | "access_token_expires_at">(
      column: K,
    ) =>
      sql<AccessColumns[K] | null>`CASE
        ${access ? sql`WHEN ${scopes}::text[] @> granted_scopes THEN ${access[column]}` : sql``}
        WHEN granted_scopes @> ${scopes}::text[] THEN ${sql.ref(column)} END`;
    const row = await db
      .updateTable("credentials")
      .set({
        granted_scopes: union,
        access_token: accessColumn("access_token"),
        access_kid: accessColumn("access_kid"),
        access_token_expires_at: accessColumn("access_token_expires_at"),
        updated_at: sql`now()`,
      })
      .where("sub", "=", sub)
      .where("status", "=", "active")
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return toCredentialInfo(row);
    const stored = await selectCredential(db, sub);
    if (stored !== undefined) return toCredentialInfo(stored);
    const user = await db
      .selectFrom("users")
      .select("sub")
      .where("sub", "=", sub)
      .executeTakeFirst();
    if (user === undefined) throw userNotFound(sub);
    return undefined;
  }

  async getCredential(sub: string): Promise<SealedCredential | undefined> {
    checkSub(sub);
    const row = await selectCredential(this.#db, sub);
    return row === undefined ? undefined : toSealedCredential(row);
  }

  async markRevoked(
    sub: string,
    reason: string,
    options: MarkRevokedOptions = {},
  ): Promise<boolean> {
    checkSub(sub);
    const { status = "revoked", events, audit } = options;
    const outcome = { kind: "revoked", reason, status, events, audit } as const;
    checkOutcome(outcome);
    return (await writeOutcomes(this.#db, this.#writeContext(), [{ sub, outcome }])).has(sub);
  }

  async withLockedUsers<T>(
    subs: readonly string[],
    fn: (held: LockedUsers<SealedToken>) => Promise<T>,
    options?: LockOptions,
  ): Promise<T> {
    const context = { ...this.#writeContext(), lockTimeoutMs: this.#lockTimeoutMs };
    return this.#db.connection().execute((db) => runLockedUsers(db, context, subs, fn, options));
  }

  hasSecurityEvent(jti: string): Promise<boolean> {
    return hasSecurityEvent(this.#db, jti);
  }

  findRefreshTokens(matches: RefreshTokenMatcher<SealedToken>): Promise<string[]> {
    return findRefreshTokens(this.#db, matches);
  }

  recordSecurityEvent(
    record: SecurityEventRecord<SealedToken>,
  ): Promise<SecurityEventOutcome | undefined> {
    return recordSecurityEvent(this.#db, this.#writeContext(), record);
  }

  async appendAuditEvent(event: AuditEventInput): Promise<AuditEvent> {
    checkAuditEvent(event);
    const [row] = await insertAuditEvents(this.#db, [event]);
    return toAuditEvent(row as NonNullable<typeof row>);
  }

  async listIdleCredentials(before: Date, limit: number): Promise<string[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError("limit must be positive");
    try {
      return await selectIdleSubs(this.#db, before, limit);
    } catch (error) {
      if (isDatabaseDown(error)) throw databaseUnavailable("idle credentials not listed", error);
      throw error;
    }
  }

  async listAuditEvents(options: { sub?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    let query = this.#db
      .selectFrom("audit_events")
      .leftJoin("users", "users.sub", "audit_events.sub")
      .selectAll("audit_events")
      .select("users.email")
      .orderBy("audit_events.id", "desc")
      .limit(checkLimit(options.limit));
    if (options.sub !== undefined) query = query.where("audit_events.sub", "=", options.sub);
    return (await query.execute()).map((row) => ({ ...toAuditEvent(row), email: row.email }));
  }

  #writeContext() {
    return { queueEvents: this.#queueEvents };
  }

  /**
   * Runs `fn` on one connection holding the user's session-level advisory lock, the one
   * `withLockedUsers` takes, waiting for it. Each statement `fn` runs commits on its own; the
   * lock is released when `fn` settles, and with the session if the process dies.
   */
  async #locked<T>(sub: string, fn: (db: Kysely<VaultSchema>) => Promise<T>): Promise<T> {
    const context = { lockTimeoutMs: this.#lockTimeoutMs };
    return this.#db
      .connection()
      .execute((db) => holdLocks(db, context, [sub], { wait: true }, () => fn(db)));
  }
}

/** Keyset-free: refreshed ones leave the set, so the next call sees the next ones. */
async function selectIdleSubs(
  db: Kysely<VaultSchema>,
  before: Date,
  limit: number,
): Promise<string[]> {
  const idleSince = sql<Date>`COALESCE(last_refresh_at, created_at)`;
  const rows = await db
    .selectFrom("credentials")
    .select("sub")
    .where("status", "=", "active")
    .where(idleSince, "<", before)
    .orderBy(idleSince)
    .orderBy("sub")
    .limit(limit)
    .execute();
  return rows.map((row) => row.sub);
}

function checkCredentialInput(input: SaveCredentialInput<SealedToken>): void {
  if (input.refreshToken !== undefined) checkSealed(input.refreshToken, "refreshToken");
  if (input.accessToken !== undefined) checkSealed(input.accessToken.token, "accessToken.token");
  checkEvents(input.events);
}

async function selectCredential(
  db: Kysely<VaultSchema>,
  sub: string,
): Promise<CredentialRow | undefined> {
  return db.selectFrom("credentials").selectAll().where("sub", "=", sub).executeTakeFirst();
}

function userNotFound(sub: string, cause?: unknown): StewardError {
  return new StewardError("user_not_found", {
    detail: `saveCredential for sub ${sub} before upsertUser`,
    cause,
  });
}

/** A sealed access token for its columns. */
interface AccessColumns {
  access_token: Buffer;
  access_kid: string;
  access_token_expires_at: Date;
}

function accessColumns(access: { token: SealedToken; expiresAt: Date }): AccessColumns {
  return {
    access_token: access.token.sealed,
    access_kid: access.token.kid as string,
    access_token_expires_at: access.expiresAt,
  };
}
