// The check every fault test ends with: whatever the fault did, each credential Steward stores
// still opens with its keyring and its refresh token still refreshes at Google.

import type { Emulator } from "@steward/emulator";
import { sql } from "kysely";
import { expect } from "vitest";
import type { Vault } from "../../../src/vault/index.js";
import { postForm } from "../../emulator/helpers.js";

/**
 * Asserts that every active credential in `vault` opens and refreshes at `google` (with the
 * emulator's default client, the one Steward uses), and that every sub in `acknowledged` (a
 * sign-in answered 2xx) has one. Refreshing at the emulator directly, not through Steward,
 * leaves Steward's caches out of it. Returns how many credentials were checked.
 */
export async function expectEveryCredentialWorks(
  vault: Vault,
  google: Emulator,
  acknowledged: readonly string[] = [],
): Promise<number> {
  const { rows } = await sql<{ sub: string }>`
    SELECT sub FROM credentials WHERE status = 'active' ORDER BY sub`.execute(vault.database.db);
  const stored = new Set(rows.map((row) => row.sub));
  expect(acknowledged.filter((sub) => !stored.has(sub))).toEqual([]);
  const broken: Array<{ sub: string; why: string }> = [];
  for (const { sub } of rows) {
    const refreshToken = (await vault.store.getCredential(sub))?.refreshToken;
    if (!refreshToken) {
      broken.push({ sub, why: "no refresh token opened" });
      continue;
    }
    const refreshed = await postForm(`${google.url}/token`, {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
    });
    if (refreshed.status !== 200 || typeof refreshed.body.access_token !== "string") {
      broken.push({ sub, why: `refresh answered ${refreshed.status}` });
    }
  }
  expect(broken).toEqual([]);
  return rows.length;
}
