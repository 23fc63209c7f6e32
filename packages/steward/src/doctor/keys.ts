import { sql } from "kysely";
import type { Keyring } from "../crypto/index.js";
import { keyUsage, loadKeyring, openField, type SealedField } from "../crypto/index.js";
import { silentLogger } from "../shared/index.js";
import { type Check, type DoctorDatabase, fail, messageOf, ok, skip } from "./check.js";

/** Credentials opened per key and sealed field: enough to catch a wrong key under a right kid. */
const SAMPLE = 5;

/**
 * `STEWARD_KEYS` (or emulator mode's generated key) holds every key the stored credentials are
 * sealed with, and a sample of them opens: a key under the right kid but with other bytes shows
 * only when opening.
 */
export const keysCheck: Check = async ({ config, database, schemaCurrent }) => {
  if (config === undefined) return skip("keys", "needs valid settings");
  let keyring: Keyring;
  try {
    keyring = await loadKeyring({
      value: config.keys,
      dataDir: config.dataDir,
      whenUnset: config.google.mode === "google" ? "fail" : "use-generated",
    });
  } catch (error) {
    return fail("keys", messageOf(error), "set STEWARD_KEYS as the service has it");
  }
  if (database === undefined) return skip("keys", "needs the database");
  if (!schemaCurrent) return skip("keys", "needs a current schema");
  const usage = await keyUsage(database.db, keyring);
  const missing = usage.filter((key) => !key.inRing);
  if (missing.length > 0) {
    const list = missing.map((key) => `${key.credentials} sealed with ${key.kid}`).join(", ");
    return fail(
      "keys",
      `credentials the keyring cannot open: ${list}, which STEWARD_KEYS lacks`,
      `add ${missing.length === 1 ? "that key" : "those keys"} back to STEWARD_KEYS after the ` +
        "active one (from your escrow copy), then run `steward keys rotate`",
    );
  }
  const sampled = await sampleOpens(database, keyring);
  if (sampled.failed.length > 0) {
    return fail(
      "keys",
      `${sampled.failed.length} of ${sampled.tried} sampled sealed tokens do not open (${sampled.failed[0]})`,
      "STEWARD_KEYS holds a different key under the same key id: restore the original from " +
        "your escrow copy; never reuse a key id for a new key",
    );
  }
  const counts = usage
    .map((key) => `${key.kid}${key.active ? " (active)" : ""} seals ${key.credentials}`)
    .join(", ");
  return ok("keys", `${counts}; ${sampled.tried} sampled sealed tokens open`);
};

async function sampleOpens(
  database: DoctorDatabase,
  keyring: Keyring,
): Promise<{ tried: number; failed: string[] }> {
  let tried = 0;
  const failed: string[] = [];
  for (const kid of keyring.kids) {
    for (const field of ["refresh_token", "access_token"] as const satisfies SealedField[]) {
      const kidColumn = field === "refresh_token" ? "refresh_kid" : "access_kid";
      const { rows } = await sql<{ sub: string; sealed: Buffer }>`
        SELECT sub, ${sql.ref(field)} AS sealed FROM credentials
         WHERE ${sql.ref(kidColumn)} = ${kid} LIMIT ${SAMPLE}`.execute(database.db);
      for (const row of rows) {
        tried++;
        try {
          openField(keyring, silentLogger, row.sub, field, row.sealed, kid);
        } catch (error) {
          failed.push(`user ${row.sub}, ${field} under ${kid}: ${messageOf(error)}`);
        }
      }
    }
  }
  return { tried, failed };
}
