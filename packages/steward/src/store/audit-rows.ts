import type { Kysely, Selectable } from "kysely";
import type { AuditEventsTable, VaultSchema } from "./schema.js";
import type { AuditEventInput } from "./store.js";
import { REASON_CODE } from "./store-checks.js";

/** A caller's mistake, refused before anything is written: the type is a short code. */
export function checkAuditEvent(event: AuditEventInput | undefined): void {
  if (event !== undefined && !REASON_CODE.test(event.type)) {
    throw new TypeError("an audit event type is a short code");
  }
}

/**
 * Appends audit events in one statement, in the order given, on `db`: a transaction when they
 * must commit with the change they record.
 */
export async function insertAuditEvents(
  db: Kysely<VaultSchema>,
  events: readonly AuditEventInput[],
): Promise<Selectable<AuditEventsTable>[]> {
  if (events.length === 0) return [];
  return db
    .insertInto("audit_events")
    .values(
      events.map((event) => ({
        type: event.type,
        sub: event.sub ?? null,
        actor: event.actor ?? null,
        data: JSON.stringify(event.data ?? {}),
      })),
    )
    .returningAll()
    .execute();
}
