// Regression: `kill -9` during a burst of sign-ins, then a restart, left users without their
// credential and credentials without their `user.signed_in` audit event (three writes, three
// commits). A sign-in now commits all of them in one transaction: whatever instant the process
// dies at, a user has all of user, credential and audit event, or none.
//
// The real service runs as a child process (`steward start`: embedded PostgreSQL in a data dir)
// and is killed with SIGKILL in the middle of bursts of concurrent sign-ins, then restarted on the
// same data dir. The emulator runs in this test process, so the codes are exchanged against a
// Google that survives the kills, as the real one would.
import { randomInt } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "@steward/emulator";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateKeyLine, Keyring } from "../../src/crypto/index.js";
import { openVault } from "../../src/vault/index.js";
import { killRunningClis } from "../cli/support/cli-process.js";
import { sdkSignIn } from "../emulator/helpers.js";
import { postCode } from "../server/helpers.js";
import { removeDataDir } from "../vault/support/databases.js";
import { startStewardProcess } from "./support/steward-process.js";

const ROUNDS = 3;
/** Sign-ins in flight at once: under the service's rate limit of 120 a minute per client. */
const BURST = 40;

const keyLine = generateKeyLine("k1");
let google: Emulator;
let dataDir: string;

beforeAll(async () => {
  google = await startEmulator({ port: 0 });
  dataDir = await mkdtemp(join(tmpdir(), "steward-sign-in-crash-"));
});
afterAll(async () => {
  killRunningClis();
  if (dataDir !== undefined) await removeDataDir(dataDir);
  await google?.close();
});

/**
 * Sends `BURST` sign-ins at once and kills the service with SIGKILL once a random number of
 * them has been answered: the others are somewhere between the exchange and the commit.
 */
async function burstThenKill(round: number): Promise<string[]> {
  const steward = await startStewardProcess({ dataDir, google, keyLine });
  const killAfter = randomInt(1, BURST / 2);
  let answered = 0;
  const confirmed: string[] = [];
  const signIns = Array.from({ length: BURST }, async (_, i) => {
    const { serverAuthCode, sub } = await sdkSignIn(google, {
      email: `crash-${round}-${i}@example.com`,
    });
    const response = await postCode(steward.url, { code: serverAuthCode }).catch(() => undefined);
    if (response?.status === 200) confirmed.push(sub);
    answered += 1;
    if (answered === killAfter) steward.process.child.kill("SIGKILL");
  });
  await Promise.all(signIns);
  steward.process.child.kill("SIGKILL");
  await steward.process.exited;
  return confirmed;
}

it("kill -9 at random points of sign-in bursts leaves every user whole or absent", async () => {
  const confirmed: string[] = [];
  for (let round = 0; round < ROUNDS; round++) confirmed.push(...(await burstThenKill(round)));

  // The restart: this start stops the PostgreSQL orphaned by the kill and recovers the cluster.
  const vault = await openVault({ dataDir, keyring: Keyring.parse(keyLine), handleSignals: false });
  try {
    const { rows } = await sql<{
      sub: string;
      user: boolean;
      credential: boolean;
      audited: boolean;
    }>`
      WITH subs AS (
        SELECT sub FROM users UNION SELECT sub FROM credentials
        UNION SELECT sub FROM audit_events WHERE type = 'user.signed_in'
      )
      SELECT subs.sub,
        EXISTS (SELECT 1 FROM users u WHERE u.sub = subs.sub) AS "user",
        EXISTS (SELECT 1 FROM credentials c WHERE c.sub = subs.sub AND c.status = 'active'
                AND c.refresh_token IS NOT NULL) AS credential,
        EXISTS (SELECT 1 FROM audit_events a WHERE a.sub = subs.sub
                AND a.type = 'user.signed_in') AS audited
      FROM subs`.execute(vault.database.db);
    const halfWritten = rows.filter((row) => !(row.user && row.credential && row.audited));
    expect(halfWritten).toEqual([]);
    // Every sign-in answered 200 before the kill was durable.
    const whole = new Set(rows.map((row) => row.sub));
    expect(confirmed.filter((sub) => !whole.has(sub))).toEqual([]);
    expect(confirmed.length).toBeGreaterThan(0);
  } finally {
    await vault.close();
  }
}, 120_000);
