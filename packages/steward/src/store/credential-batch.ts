import { type Kysely, sql } from "kysely";
import { StewardError } from "../errors.js";
import { checkAuditEvent, insertAuditEvents } from "./audit-rows.js";
import { insertOutboxEvents } from "./outbox-rows.js";
import type { VaultSchema } from "./schema.js";
import type {
  ChangeEvent,
  CredentialOutcome,
  LockedUsers,
  LockOptions,
  RefreshResult,
  SealedCredential,
  SealedToken,
  UserOutcome,
} from "./store.js";
import { checkReason, checkSub } from "./store-checks.js";
import { type CredentialRow, toSealedCredential } from "./store-rows.js";

/** An outcome as the store writes it: its tokens sealed. */
type SealedOutcome = CredentialOutcome<SealedToken>;

/**
 * The `NOTIFY` channel of credentials that stopped working: its payload is the sub of a
 * credential just marked revoked or expired, or of a user just deleted. Sent by the statement
 * that makes the change, so it is delivered when (and only if) that change commits. Every
 * process opened with `openCore` (service, library, worker) listens and forgets the user's
 * cached access token.
 */
export const CREDENTIAL_REVOKED_CHANNEL = "steward_credential_revoked";

/** Namespace of the per-user advisory locks (two-int form), "STWD" in ASCII. */
const LOCK_NAMESPACE = 0x53545744;

export interface BatchContext {
  readonly lockTimeoutMs: number;
  /** Write outcomes' events to the webhook outbox (see {@link writeOutcomes}). */
  readonly queueEvents: boolean;
}

/**
 * Runs `fn` on one connection (`db`) with the primitives of {@link LockedUsers}: four
 * statements serve a whole group in the common case (lock, read, write, unlock), each called by
 * the caller when it is ready. Taking the lock and reading stay two statements, as do writing
 * and unlocking: a statement's snapshot is taken before its locks, and its writes commit after
 * its unlocks.
 */
export async function runLockedUsers<T>(
  db: Kysely<VaultSchema>,
  context: BatchContext,
  subs: readonly string[],
  fn: (held: LockedUsers<SealedToken>) => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  for (const sub of subs) checkSub(sub);
  const asked = [...new Set(subs)];
  return holdLocks(db, context, asked, options, (locked, held) => {
    const notHeld = (sub: string) => new TypeError(`sub ${sub} is not held here`);
    const taken = new Set(locked);
    return fn({
      locked,
      busy: asked.filter((sub) => !taken.has(sub)),
      async read() {
        const rows = new Map<string, CredentialRow>();
        const mine = locked.filter((sub) => held.has(sub));
        if (mine.length > 0) {
          const read = await db
            .selectFrom("credentials")
            .selectAll()
            .where(sql<boolean>`sub = ANY(${mine}::text[])`)
            .execute();
          for (const row of read) rows.set(row.sub, row);
        }
        return {
          credential(sub: string): SealedCredential | undefined {
            if (!mine.includes(sub)) throw notHeld(sub);
            const row = rows.get(sub);
            return row === undefined ? undefined : toSealedCredential(row);
          },
        };
      },
      async write(outcomes: readonly UserOutcome<SealedToken>[]) {
        for (const { sub, outcome } of outcomes) {
          if (!held.has(sub)) throw notHeld(sub);
          checkOutcome(outcome);
        }
        return writeOutcomes(db, context, outcomes);
      },
      async unlock(subs: readonly string[]) {
        for (const sub of subs) if (!held.has(sub)) throw notHeld(sub);
        const mine = [...new Set(subs)];
        for (const sub of mine) held.delete(sub);
        if (mine.length > 0) await unlock(db, mine);
      },
    });
  });
}

/**
 * Runs `fn` on one connection (`db`) holding the session-level advisory locks of `subs` (all
 * of them, waiting, with `wait`; else those no one else holds), with the subs locked and the
 * set of those still held (a sub `fn` unlocks early, it deletes from the set). The rest are
 * released when `fn` settles, and the set is emptied, so a primitive used later refuses.
 */
export async function holdLocks<T>(
  db: Kysely<VaultSchema>,
  context: Pick<BatchContext, "lockTimeoutMs">,
  subs: readonly string[],
  options: LockOptions,
  fn: (locked: readonly string[], held: Set<string>) => Promise<T>,
): Promise<T> {
  const locked = options.wait
    ? await lockWaiting(db, subs, context.lockTimeoutMs)
    : await tryLock(db, subs);
  const held = new Set(locked);
  try {
    return await fn(locked, held);
  } finally {
    const rest = [...held];
    held.clear();
    if (rest.length > 0) await unlock(db, rest);
  }
}

/** Locks what no one else holds now; returns those subs, in the order asked. */
async function tryLock(db: Kysely<VaultSchema>, subs: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ sub: string }>`
    SELECT s.sub FROM unnest(${subs}::text[]) WITH ORDINALITY AS s(sub, n)
    WHERE pg_try_advisory_lock(${LOCK_NAMESPACE}::int, hashtext(s.sub))
    ORDER BY s.n`.execute(db);
  return rows.map((row) => row.sub);
}

/**
 * Locks every sub, waiting, in the order of the lock keys (one order for every instance). `db`
 * is a connection that holds no advisory lock yet: on failure every one it holds is released.
 *
 * @throws StewardError `credential_busy` when a lock is not granted within `lockTimeoutMs`.
 */
async function lockWaiting(
  db: Kysely<VaultSchema>,
  subs: readonly string[],
  lockTimeoutMs: number,
): Promise<string[]> {
  try {
    // lock_timeout is set local to this statement's own transaction: it bounds each wait of
    // this statement and nothing else on the pooled connection. The sort is in a subquery so
    // the locks are taken in its order.
    await sql`
      WITH timeout AS (SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true))
      SELECT pg_advisory_lock(${LOCK_NAMESPACE}::int, ordered.key)
      FROM timeout, (SELECT hashtext(s) AS key FROM unnest(${subs}::text[]) AS s ORDER BY 1) AS ordered`.execute(
      db,
    );
  } catch (error) {
    // Session-level locks outlive the failed statement: those granted before the timeout would
    // stay with the pooled connection, held from every instance.
    await sql`SELECT pg_advisory_unlock_all()`.execute(db);
    if ((error as { code?: string }).code === "55P03") {
      throw new StewardError("credential_busy", {
        detail: `lock of ${subs.length === 1 ? `sub ${subs[0]}` : `${subs.length} users`} not granted within ${lockTimeoutMs} ms`,
        cause: error,
      });
    }
    throw error;
  }
  return [...subs];
}

/** Releases one lock level of each sub (a sub locked twice is listed twice). */
async function unlock(db: Kysely<VaultSchema>, subs: readonly string[]): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}::int, hashtext(s))
    FROM unnest(${subs}::text[]) AS s`.execute(db);
}

/** A caller's mistake, refused before anything of its group is written. */
export function checkOutcome(outcome: SealedOutcome): void {
  if (outcome.kind !== "unchanged") checkEvents(outcome.events);
  switch (outcome.kind) {
    case "refreshed":
      checkSealed(outcome.result.accessToken, "accessToken");
      if (outcome.result.refreshToken !== undefined)
        checkSealed(outcome.result.refreshToken, "refreshToken");
      return;
    case "failed":
      checkReason(outcome.reasonCode);
      return;
    case "revoked":
      checkReason(outcome.reason);
      if (outcome.audit !== undefined) checkAuditEvent({ ...outcome.audit, sub: undefined });
      if (
        outcome.status !== undefined &&
        outcome.status !== "revoked" &&
        outcome.status !== "expired"
      )
        throw new TypeError("status is 'revoked' or 'expired'");
      return;
    case "unchanged":
      return;
    default:
      throw new TypeError("unknown outcome kind");
  }
}

/** A sealed token to store: an envelope and the kid that sealed it. */
export function checkSealed(token: SealedToken, name: string): void {
  if (!Buffer.isBuffer(token?.sealed) || token.sealed.length === 0 || !token.kid)
    throw new TypeError(`${name} must be a sealed token`);
}

/** Events given with a change (see `ChangeEvent`): a name and an object each. */
export function checkEvents(events: readonly ChangeEvent[] | undefined): void {
  if (events === undefined) return;
  if (!Array.isArray(events)) throw new TypeError("events must be an array");
  for (const { event, payload } of events) {
    if (typeof event !== "string" || event === "") throw new TypeError("an event needs a name");
    if (typeof payload !== "object" || payload === null)
      throw new TypeError(`event ${event} needs an object payload`);
  }
}

/**
 * One statement per kind of outcome present in the group (check each with `checkOutcome`
 * first). Returns the subs whose row the writes changed: a refresh is kept only while active.
 * The audit events of the revocations that changed a row, and with `queueEvents` the events of
 * the outcomes that changed one, are inserted in the same transaction: a change is never
 * committed without its record and its announcement.
 */
export async function writeOutcomes(
  db: Kysely<VaultSchema>,
  context: Pick<BatchContext, "queueEvents">,
  group: readonly { readonly sub: string; readonly outcome: SealedOutcome }[],
): Promise<Set<string>> {
  const announced =
    context.queueEvents && group.some(({ outcome }) => eventsOf(outcome).length > 0);
  const audited = group.some(({ outcome }) => outcome.kind === "revoked" && outcome.audit);
  if (!announced && !audited) return writeChanges(db, group);
  return db.transaction().execute(async (transaction) => {
    const changed = await writeChanges(transaction, group);
    const made = group.filter(({ sub }) => changed.has(sub));
    await insertAuditEvents(
      transaction,
      made.flatMap(({ sub, outcome }) =>
        outcome.kind === "revoked" && outcome.audit ? [{ ...outcome.audit, sub }] : [],
      ),
    );
    if (announced) {
      await insertOutboxEvents(
        transaction,
        made.flatMap(({ outcome }) => eventsOf(outcome)),
      );
    }
    return changed;
  });
}

function eventsOf(outcome: SealedOutcome): readonly ChangeEvent[] {
  return (outcome.kind === "unchanged" ? undefined : outcome.events) ?? [];
}

async function writeChanges(
  db: Kysely<VaultSchema>,
  group: readonly { readonly sub: string; readonly outcome: SealedOutcome }[],
): Promise<Set<string>> {
  const refreshed: { sub: string; result: RefreshResult<SealedToken> }[] = [];
  const failed: { sub: string; reasonCode: string }[] = [];
  const revoked: { sub: string; reason: string; status: "revoked" | "expired" }[] = [];
  for (const { sub, outcome } of group) {
    if (outcome.kind === "refreshed") refreshed.push({ sub, result: outcome.result });
    else if (outcome.kind === "failed") failed.push({ sub, reasonCode: outcome.reasonCode });
    else if (outcome.kind === "revoked")
      revoked.push({ sub, reason: outcome.reason, status: outcome.status ?? "revoked" });
  }
  const changed: { sub: string }[] = [];
  if (refreshed.length > 0) changed.push(...(await writeRefreshed(db, refreshed)));
  if (failed.length > 0) {
    const { rows } = await sql<{ sub: string }>`
      WITH written AS (
        UPDATE credentials AS c SET last_error = u.code, updated_at = now()
        FROM unnest(${failed.map((f) => f.sub)}::text[], ${failed.map((f) => f.reasonCode)}::text[]) AS u(sub, code)
        WHERE c.sub = u.sub
        RETURNING c.sub
      ), ${countWritten("refresh_failed")}
      SELECT sub FROM written`.execute(db);
    changed.push(...rows);
  }
  if (revoked.length > 0) {
    // One NOTIFY per credential this write revoked (an already dead one is not news), sent by
    // this statement so that it is delivered on commit: other instances forget cached tokens.
    const { rows } = await sql<{ sub: string }>`
      WITH revoked AS (
        UPDATE credentials AS c SET status = u.status, revoked_reason = u.reason,
          refresh_token = NULL, refresh_kid = NULL, access_token = NULL, access_kid = NULL,
          access_token_expires_at = NULL, updated_at = now()
        FROM unnest(${revoked.map((r) => r.sub)}::text[], ${revoked.map((r) => r.status)}::text[],
          ${revoked.map((r) => r.reason)}::text[]) AS u(sub, status, reason)
        WHERE c.sub = u.sub AND c.status = 'active'
        RETURNING c.sub
      )
      SELECT sub, pg_notify(${CREDENTIAL_REVOKED_CHANNEL}, sub) FROM revoked`.execute(db);
    changed.push(...rows);
  }
  return new Set(changed.map((row) => row.sub));
}

/**
 * Stores fresh access tokens (sealed above the store) for credentials still active. A rotated refresh token
 * replaces the stored one; reported scopes replace the granted ones (scopes never hold a space,
 * so they travel joined by one).
 */
async function writeRefreshed(
  db: Kysely<VaultSchema>,
  refreshed: readonly { sub: string; result: RefreshResult<SealedToken> }[],
): Promise<{ sub: string }[]> {
  const column = {
    sub: [] as string[],
    access: [] as Buffer[],
    accessKid: [] as string[],
    expiresAt: [] as Date[],
    refresh: [] as (Buffer | null)[],
    refreshKid: [] as (string | null)[],
    scopes: [] as (string | null)[],
    refreshedAt: [] as Date[],
  };
  for (const { sub, result } of refreshed) {
    const { accessToken: access, refreshToken: refresh } = result;
    column.sub.push(sub);
    column.access.push(access.sealed);
    column.accessKid.push(access.kid as string);
    column.expiresAt.push(result.expiresAt);
    column.refresh.push(refresh?.sealed ?? null);
    column.refreshKid.push(refresh?.kid ?? null);
    column.scopes.push(result.grantedScopes === undefined ? null : result.grantedScopes.join(" "));
    column.refreshedAt.push(result.refreshedAt ?? new Date());
  }
  const { rows } = await sql<{ sub: string }>`
    WITH written AS (UPDATE credentials AS c SET
      access_token = u.access, access_kid = u.access_kid, access_token_expires_at = u.expires_at,
      refresh_token = COALESCE(u.refresh, c.refresh_token),
      refresh_kid = COALESCE(u.refresh_kid, c.refresh_kid),
      granted_scopes = COALESCE(string_to_array(u.scopes, ' '), c.granted_scopes),
      last_refresh_at = u.refreshed_at, last_error = NULL, updated_at = now()
    FROM unnest(${column.sub}::text[], ${column.access}::bytea[], ${column.accessKid}::text[],
      ${column.expiresAt}::timestamptz[], ${column.refresh}::bytea[], ${column.refreshKid}::text[],
      ${column.scopes}::text[], ${column.refreshedAt}::timestamptz[])
      AS u(sub, access, access_kid, expires_at, refresh, refresh_kid, scopes, refreshed_at)
    WHERE c.sub = u.sub AND c.status = 'active'
    RETURNING c.sub), ${countWritten("refreshed")}
    SELECT sub FROM written`.execute(db);
  return rows;
}

/**
 * A CTE adding the rows of CTE `written` to this hour's count of `kind` (the admin page's
 * charts; see activity.ts). Part of the statement that writes them, so a count commits with its
 * writes and costs no round trip: the hot path pays one upsert of one small row per group.
 */
function countWritten(kind: "refreshed" | "refresh_failed") {
  return sql`counted AS (
    INSERT INTO activity_hourly AS a (hour, kind, count)
    SELECT date_trunc('hour', now(), 'UTC'), ${kind}, count(*) FROM written HAVING count(*) > 0
    ON CONFLICT (hour, kind) DO UPDATE SET count = a.count + excluded.count
  )`;
}
