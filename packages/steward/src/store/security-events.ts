import { type Kysely, sql } from "kysely";
import { checkEvents, writeOutcomes } from "./credential-batch.js";
import { insertOutboxEvents } from "./outbox-rows.js";
import type { VaultSchema } from "./schema.js";
import type {
  AuditEventInput,
  ChangeEvent,
  RefreshTokenMatcher,
  SealedToken,
  SecurityEventOutcome,
  SecurityEventRecord,
} from "./store.js";
import { checkReason, checkSub, REASON_CODE } from "./store-checks.js";

/** What the security-event writes need of the store. */
export interface SecurityEventContext {
  /** Write the record's events to the webhook outbox. */
  readonly queueEvents: boolean;
}

/** Active credentials read per page by {@link findRefreshTokens}. */
const SCAN_PAGE = 500;
/** Google's jti are short hex strings; this bounds what is stored under the primary key. */
const MAX_JTI_LENGTH = 256;

export async function hasSecurityEvent(db: Kysely<VaultSchema>, jti: string): Promise<boolean> {
  checkJti(jti);
  const row = await db
    .selectFrom("risc_events")
    .select("jti")
    .where("jti", "=", jti)
    .executeTakeFirst();
  return row !== undefined;
}

/** See `VaultStore.findRefreshTokens`. */
export async function findRefreshTokens(
  db: Kysely<VaultSchema>,
  matches: RefreshTokenMatcher<SealedToken>,
): Promise<string[]> {
  const found: string[] = [];
  let after: string | undefined;
  for (;;) {
    let query = db
      .selectFrom("credentials")
      .select(["sub", "refresh_token", "refresh_kid"])
      .where("status", "=", "active")
      .orderBy("sub")
      .limit(SCAN_PAGE);
    if (after !== undefined) query = query.where("sub", ">", after);
    const rows = await query.execute();
    for (const row of rows) {
      const token = sealedRefreshToken(row);
      if (token !== undefined && matches(token, row.sub)) found.push(row.sub);
    }
    if (rows.length < SCAN_PAGE) return found;
    after = rows.at(-1)?.sub;
  }
}

/** See `VaultStore.recordSecurityEvent`. */
export async function recordSecurityEvent(
  db: Kysely<VaultSchema>,
  context: SecurityEventContext,
  record: SecurityEventRecord<SealedToken>,
): Promise<SecurityEventOutcome | undefined> {
  checkRecord(record);
  return db.transaction().execute(async (transaction) => {
    // The jti first: a redelivery waits here for the first delivery's commit, then finds it.
    const inserted = await transaction
      .insertInto("risc_events")
      .values({ jti: record.jti, event_types: [...record.eventTypes], sub: record.sub })
      .onConflict((conflict) => conflict.column("jti").doNothing())
      .returning("jti")
      .executeTakeFirst();
    if (inserted === undefined) return undefined;

    const audit: AuditEventInput[] = [...record.audit];
    const events: ChangeEvent[] = [...record.events];
    const revoked: string[] = [];
    for (const revocation of record.revocations) {
      const { sub, refreshTokenMatches } = revocation;
      if (refreshTokenMatches && !(await stillMatches(transaction, sub, refreshTokenMatches)))
        continue;
      // No outbox here (queueEvents false): writeOutcomes would open a transaction of its own.
      const changed = await writeOutcomes(transaction, { queueEvents: false }, [
        { sub, outcome: { kind: "revoked", reason: revocation.reason } },
      ]);
      if (!changed.has(sub)) continue;
      revoked.push(sub);
      audit.push(revocation.audit);
      events.push(...(revocation.events ?? []));
    }

    const flagged: string[] = [];
    for (const { sub, disabled } of record.accountStates) {
      const row = await transaction
        .updateTable("users")
        .set({
          account_disabled_at: disabled === null ? null : sql<Date>`now()`,
          account_disabled_reason: disabled?.reason ?? null,
          updated_at: sql<Date>`now()`,
        })
        .where("sub", "=", sub)
        .returning("sub")
        .executeTakeFirst();
      if (row !== undefined) flagged.push(sub);
    }

    if (audit.length > 0) {
      await transaction
        .insertInto("audit_events")
        .values(
          audit.map((event) => ({
            type: event.type,
            sub: event.sub ?? null,
            actor: event.actor ?? null,
            data: JSON.stringify(event.data ?? {}),
          })),
        )
        .execute();
    }
    if (context.queueEvents) await insertOutboxEvents(transaction, events);
    return { revoked, flagged };
  });
}

/** Whether `sub`'s credential is still active with a matching refresh token, row locked. */
async function stillMatches(
  db: Kysely<VaultSchema>,
  sub: string,
  matches: RefreshTokenMatcher<SealedToken>,
): Promise<boolean> {
  const row = await db
    .selectFrom("credentials")
    .select(["sub", "refresh_token", "refresh_kid"])
    .where("sub", "=", sub)
    .where("status", "=", "active")
    .forUpdate()
    .executeTakeFirst();
  const token = row === undefined ? undefined : sealedRefreshToken(row);
  return token !== undefined && matches(token, sub);
}

function sealedRefreshToken(row: {
  refresh_token: Buffer | null;
  refresh_kid: string | null;
}): SealedToken | undefined {
  return row.refresh_token === null
    ? undefined
    : { sealed: row.refresh_token, kid: row.refresh_kid };
}

function checkJti(jti: unknown): asserts jti is string {
  if (
    typeof jti !== "string" ||
    jti.length === 0 ||
    jti.length > MAX_JTI_LENGTH ||
    jti.includes("\u0000")
  ) {
    throw new TypeError(`jti must be 1 to ${MAX_JTI_LENGTH} characters, without NUL`);
  }
}

/** A caller's mistakes, refused before anything is written. */
function checkRecord(record: SecurityEventRecord<SealedToken>): void {
  checkJti(record.jti);
  if (record.sub !== null) checkSub(record.sub);
  const audits = [...record.audit, ...record.revocations.map((revocation) => revocation.audit)];
  for (const event of audits) {
    if (!REASON_CODE.test(event.type)) throw new TypeError("an audit event type is a short code");
  }
  for (const revocation of record.revocations) {
    checkSub(revocation.sub);
    checkReason(revocation.reason);
    checkEvents(revocation.events);
  }
  for (const state of record.accountStates) checkSub(state.sub);
  checkEvents(record.events);
}
