import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { VaultSchema } from "./schema.js";
import type { ChangeEvent } from "./store.js";

/**
 * Inserts events into `webhook_outbox` (migration 0003), due at once, in the order given, in
 * one statement. Payloads are stored as JSON (dates as ISO strings).
 *
 * @returns the events' public ids (UUIDs), in order.
 * @throws whatever the database throws (pg errors carry no parameter values).
 */
export async function insertOutboxEvents(
  db: Kysely<VaultSchema>,
  events: readonly ChangeEvent[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map(({ event, payload }) => ({
    event_id: randomUUID(),
    type: event,
    payload: JSON.stringify(payload),
  }));
  await db.insertInto("webhook_outbox").values(rows).execute();
  return rows.map((row) => row.event_id);
}
