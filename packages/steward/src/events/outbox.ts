import { type Kysely, sql } from "kysely";
import type { VaultSchema } from "../store/index.js";
import { insertOutboxEvents } from "../store/index.js";
import type { StewardEventName, StewardEvents } from "./bus.js";

/** An event as the bus gave it. */
export type QueuedEvent = {
  [E in StewardEventName]: { readonly event: E; readonly payload: StewardEvents[E] };
}[StewardEventName];

/** A row claimed for one delivery attempt; `attempts` counts this one and fences the claim. */
export interface OutboxClaim {
  readonly id: string;
  readonly eventId: string;
  readonly type: StewardEventName;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
  readonly attempts: number;
}

/**
 * The webhook outbox in PostgreSQL (table `webhook_outbox`, migration 0003). Every state change
 * is one statement. A claim sets a lease (`locked_until`) and counts the attempt; the later
 * updates of that attempt apply only while `attempts` still equals the claim's, so a dispatcher
 * whose lease lapsed (and whose row another instance took over) cannot undo the other's work.
 * Times come from the database's clock, which every instance shares.
 *
 * @example
 *   const outbox = new WebhookOutbox(vault.database.db);
 *   await outbox.enqueue("credential.revoked", { sub: "1234", reason: "invalid_grant" });
 */
export class WebhookOutbox {
  readonly #db: Kysely<VaultSchema>;

  constructor(db: Kysely<VaultSchema>) {
    this.#db = db;
  }

  /**
   * Queues an event for delivery, due at once. The payload is stored as the bus gave it, dates
   * as ISO strings.
   *
   * @returns the event's public id (a UUID).
   * @throws whatever the database throws (pg errors carry no parameter values).
   */
  async enqueue<E extends StewardEventName>(event: E, payload: StewardEvents[E]): Promise<string> {
    const [eventId] = await this.enqueueAll([{ event, payload } as QueuedEvent]);
    return eventId as string;
  }

  /** Queues several events in one statement; returns their ids, in order. */
  enqueueAll(events: readonly QueuedEvent[]): Promise<string[]> {
    return insertOutboxEvents(this.#db, events);
  }

  /**
   * Claims up to `limit` due rows for `leaseMs`, oldest due first. `FOR UPDATE SKIP LOCKED`
   * lets instances claim side by side without waiting on or taking each other's rows.
   */
  async claimDue(limit: number, leaseMs: number): Promise<OutboxClaim[]> {
    const due = this.#db
      .selectFrom("webhook_outbox")
      .select("id")
      .where("next_attempt_at", "<=", sql<Date>`now()`)
      .where((eb) =>
        eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", sql<Date>`now()`)]),
      )
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(limit)
      .forUpdate()
      .skipLocked();
    const rows = await this.#db
      .updateTable("webhook_outbox")
      .set({ attempts: sql`attempts + 1`, locked_until: after(leaseMs) })
      .where("id", "in", due)
      .returning(["id", "event_id", "type", "payload", "created_at", "attempts"])
      .execute();
    return rows
      .map((row) => ({
        id: row.id,
        eventId: row.event_id,
        type: row.type as StewardEventName,
        payload: row.payload,
        createdAt: row.created_at,
        attempts: row.attempts,
      }))
      .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  /** Done for good. Applies even after the lease lapsed: the receiver has the event. */
  async markDelivered(claim: OutboxClaim): Promise<void> {
    await this.#db
      .updateTable("webhook_outbox")
      .set({
        delivered_at: sql`now()`,
        dead_at: null,
        next_attempt_at: null,
        locked_until: null,
      })
      .where("id", "=", claim.id)
      .where("delivered_at", "is", null)
      .execute();
  }

  /** Due again in `delayMs`; `reason` is a short code such as `http_503`, never a body. */
  async scheduleRetry(claim: OutboxClaim, delayMs: number, reason: string): Promise<void> {
    await this.#fenced(claim)
      .set({ next_attempt_at: after(delayMs), locked_until: null, last_error: reason })
      .execute();
  }

  /** Given up: kept, with its reason, for an operator to inspect or requeue. */
  async markDead(claim: OutboxClaim, reason: string): Promise<void> {
    await this.#fenced(claim)
      .set({ dead_at: sql`now()`, next_attempt_at: null, locked_until: null, last_error: reason })
      .execute();
  }

  /** Hands an unfinished attempt back (on shutdown): due at once, the attempt not counted. */
  async release(claim: OutboxClaim): Promise<void> {
    await this.#fenced(claim)
      .set({ attempts: sql`attempts - 1`, next_attempt_at: sql`now()`, locked_until: null })
      .execute();
  }

  /**
   * Deletes up to `limit` rows delivered more than `olderThanMs` ago; dead rows stay.
   *
   * @returns how many were deleted.
   */
  async pruneDelivered(olderThanMs: number, limit: number): Promise<number> {
    const old = this.#db
      .selectFrom("webhook_outbox")
      .select("id")
      .where(
        "delivered_at",
        "<",
        sql<Date>`now() - ${olderThanMs}::double precision * interval '1 millisecond'`,
      )
      .limit(limit);
    const result = await this.#db
      .deleteFrom("webhook_outbox")
      .where("id", "in", old)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #fenced(claim: OutboxClaim) {
    return this.#db
      .updateTable("webhook_outbox")
      .where("id", "=", claim.id)
      .where("attempts", "=", claim.attempts)
      .where("delivered_at", "is", null);
  }
}

function after(delayMs: number) {
  return sql<Date>`now() + ${delayMs}::double precision * interval '1 millisecond'`;
}
