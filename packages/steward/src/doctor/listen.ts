import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Check, fail, messageOf, ok, skip } from "./check.js";

const WAIT_MS = 5_000;

/**
 * LISTEN/NOTIFY end to end: a connection of its own listens on a channel nobody else uses and
 * hears a NOTIFY sent through the pool. Instances tell each other of revoked credentials this
 * way; a pooler in transaction mode accepts LISTEN but delivers nothing.
 */
export const listenCheck: Check = async ({ database }) => {
  if (database === undefined) return skip("listen", "needs the database");
  const channel = `steward_doctor_${randomBytes(6).toString("hex")}`;
  const listener = new pg.Client(database.settings);
  listener.on("error", () => undefined);
  try {
    await listener.connect();
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), WAIT_MS);
      listener.on("notification", (message) => {
        if (message.channel !== channel) return;
        clearTimeout(timer);
        resolve(true);
      });
    });
    await listener.query(`LISTEN ${channel}`);
    await database.pool.query("SELECT pg_notify($1, 'doctor')", [channel]);
    if (!(await heard)) {
      return fail(
        "listen",
        `a NOTIFY was not heard by a LISTEN within ${WAIT_MS / 1000} s`,
        "connect Steward to PostgreSQL directly or through a pooler in session mode: in " +
          "transaction mode LISTEN hears nothing (see docs/deploy.md)",
      );
    }
    return ok("listen", "LISTEN hears a NOTIFY sent from another connection");
  } catch (error) {
    return fail(
      "listen",
      `LISTEN failed: ${messageOf(error)}`,
      "connect Steward to PostgreSQL directly or through a pooler in session mode",
    );
  } finally {
    await listener.end().catch(() => undefined);
  }
};
