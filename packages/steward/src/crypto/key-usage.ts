import { type Kysely, sql } from "kysely";
import { StewardError } from "../errors.js";
import type { VaultSchema } from "../store/schema.js";
import type { Keyring } from "./keyring.js";

/** How many credentials one key seals. */
export interface KeyUsage {
  readonly kid: string;
  /** Credentials with a refresh or access token sealed by this key. */
  readonly credentials: number;
  readonly active: boolean;
  /** False for a kid found in the database but missing from the keyring. */
  readonly inRing: boolean;
}

/**
 * One entry per kid of the ring, in ring order and zero counts included, then any kid found in
 * the database that the ring lacks. A key can be dropped from `STEWARD_KEYS` once it seals 0.
 *
 * @example
 *   await keyUsage(db, keyring); // [{ kid: "k2", credentials: 10, active: true, inRing: true }, { kid: "k1", credentials: 0, ... }]
 */
export async function keyUsage(db: Kysely<VaultSchema>, keyring: Keyring): Promise<KeyUsage[]> {
  const counts = await storedKids(db);
  const usage: KeyUsage[] = keyring.kids.map((kid) => ({
    kid,
    credentials: counts.get(kid) ?? 0,
    active: kid === keyring.activeKid,
    inRing: true,
  }));
  for (const [kid, credentials] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    if (!keyring.has(kid)) usage.push({ kid, credentials, active: false, inRing: false });
  }
  return usage;
}

/**
 * Refuses a keyring that lacks a key the stored credentials are sealed with. Run before
 * migrating, so a refused start changes nothing.
 *
 * @throws StewardError `key_missing`, naming every missing kid and how many credentials it seals.
 */
export async function assertKeyringCoversStoredKids(
  db: Kysely<VaultSchema>,
  keyring: Keyring,
): Promise<void> {
  const missing = [...(await storedKids(db))].filter(([kid]) => !keyring.has(kid));
  if (missing.length === 0) return;
  const list = missing.map(([kid, count]) => `'${kid}' (${count} credentials)`).join(", ");
  throw new StewardError("key_missing", {
    message:
      `Stored credentials are sealed with ${missing.length === 1 ? "key" : "keys"} ${list}, ` +
      "which STEWARD_KEYS does not hold. Add the missing key after the active one, run " +
      "`steward keys rotate`, and drop it once `steward keys status` shows 0 for it.",
  });
}

/** Counts of credentials per kid, over both sealed columns; none before the first migration. */
async function storedKids(db: Kysely<VaultSchema>): Promise<Map<string, number>> {
  const exists = await sql<{ found: boolean }>`
    SELECT to_regclass('credentials') IS NOT NULL AS found`.execute(db);
  if (!exists.rows[0]?.found) return new Map();
  const result = await sql<{ kid: string; credentials: number }>`
    SELECT kid, count(*)::int AS credentials FROM (
      SELECT refresh_kid AS kid, sub FROM credentials WHERE refresh_kid IS NOT NULL
      UNION
      SELECT access_kid AS kid, sub FROM credentials WHERE access_kid IS NOT NULL
    ) AS sealed GROUP BY kid`.execute(db);
  return new Map(result.rows.map((row) => [row.kid, row.credentials]));
}
