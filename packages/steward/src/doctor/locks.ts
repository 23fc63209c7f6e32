import { type Check, fail, messageOf, ok, skip } from "./check.js";

/** A namespace of its own ("STDC"), apart from the per-user locks ("STWD"). */
const DOCTOR_NAMESPACE = 0x53544443;

/**
 * A session-level advisory lock taken and released on one connection, as Steward holds a
 * user's lock across a refresh. Through a pooler in transaction mode the two statements may run
 * on different server connections, and the release finds no lock.
 */
export const locksCheck: Check = async ({ database }) => {
  if (database === undefined) return skip("locks", "needs the database");
  const client = await database.pool.connect();
  try {
    const taken = await client.query<{ got: boolean }>(
      "SELECT pg_try_advisory_lock($1::int, hashtext('steward doctor')) AS got",
      [DOCTOR_NAMESPACE],
    );
    if (!taken.rows[0]?.got) {
      return fail(
        "locks",
        "a session advisory lock could not be taken (another doctor holds it?)",
        "run the doctor again; if it persists, look for a session holding advisory locks in pg_locks",
      );
    }
    const released = await client.query<{ done: boolean }>(
      "SELECT pg_advisory_unlock($1::int, hashtext('steward doctor')) AS done",
      [DOCTOR_NAMESPACE],
    );
    if (!released.rows[0]?.done) {
      return fail(
        "locks",
        "a session advisory lock taken on one connection was gone at the next statement",
        "connect directly or through a pooler in session mode: Steward holds a user's lock " +
          "across statements",
      );
    }
    return ok("locks", "session advisory locks are taken and released");
  } catch (error) {
    return fail(
      "locks",
      `advisory locks failed: ${messageOf(error)}`,
      "connect directly or through a pooler in session mode",
    );
  } finally {
    client.release();
  }
};
