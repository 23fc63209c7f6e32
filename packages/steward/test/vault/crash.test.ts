import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateKeyLine,
  Keyring,
  keyUsage,
  openField,
  rotateCredentials,
  type SealedField,
} from "../../src/crypto/index.js";
import { silentLogger } from "../../src/shared/index.js";
import { openVault, type Vault } from "../../src/vault/index.js";
import { writeLoopTokens } from "./fixtures/write-loop-tokens.js";
import { type Child, runFixture, stopChild } from "./support/child.js";
import { removeDataDir, startEmbeddedTestServer, type TestServer } from "./support/databases.js";
import { seedCredentials, seededSub, seededTokens } from "./support/seed.js";

const k1Line = generateKeyLine("k1");
const k2Line = generateKeyLine("k2");
const k1 = Keyring.parse(k1Line);
const k2k1 = Keyring.parse(`${k2Line},${k1Line}`);
let server: TestServer;
const children: Child[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  server = await startEmbeddedTestServer();
});
afterAll(async () => {
  await Promise.all(children.map(stopChild));
  await server?.close();
  for (const dir of dirs) await removeDataDir(dir);
});

/** Opens every credential of the database with `keyring`; throws at the first that fails. */
async function openEverything(
  vault: Vault,
  keyring: Keyring,
): Promise<Map<string, { refresh: string; access: string | null }>> {
  const rows = await vault.database.db.selectFrom("credentials").selectAll().execute();
  const open = (sub: string, field: SealedField, sealed: Buffer | null, kid: string | null) =>
    sealed === null ? null : openField(keyring, silentLogger, sub, field, sealed, kid);
  return new Map(
    rows.map((row) => [
      row.sub,
      {
        refresh: open(row.sub, "refresh_token", row.refresh_token, row.refresh_kid) as string,
        access: open(row.sub, "access_token", row.access_token, row.access_kid),
      },
    ]),
  );
}

async function kidCounts(vault: Vault): Promise<{ k1: number; k2: number }> {
  const usage = await keyUsage(vault.database.db, k2k1);
  const count = (kid: string) => usage.find((entry) => entry.kid === kid)?.credentials ?? -1;
  return { k1: count("k1"), k2: count("k2") };
}

// Each case kills and restarts processes and PostgreSQL: seconds alone, more beside the suite.
describe("SIGKILL in the middle of a rotation batch", () => {
  it("leaves whole batches only; every credential opens; a second run completes", async () => {
    const total = 20_000;
    const batchSize = 200;
    const databaseUrl = await server.createDatabase();
    const vault = await openVault({ databaseUrl, keyring: k1 });
    try {
      await seedCredentials(vault.database.db, k1, total);
      const rotator = runFixture("keys-cli.ts", ["rotate", "--batch-size", String(batchSize)], {
        DATABASE_URL: databaseUrl,
        STEWARD_KEYS: `${k2Line},${k1Line}`,
      });
      children.push(rotator);
      // Wait until batches are committing and one is open, then kill the process outright.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const state = await sql<{ rotated: number; open: number }>`
          SELECT (SELECT count(*)::int FROM credentials WHERE refresh_kid = 'k2') AS rotated,
                 (SELECT count(*)::int FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND xact_start IS NOT NULL) AS open`.execute(vault.database.db);
        const { rotated, open } = state.rows[0] ?? { rotated: 0, open: 0 };
        if (rotated > 0 && open > 0) break;
        if (rotator.process.exitCode !== null || Date.now() > deadline) {
          throw new Error(`the rotation was not caught mid-way:\n${rotator.output()}`);
        }
        await sleep(5);
      }
      rotator.process.kill("SIGKILL");
      expect(await rotator.exited()).toBe(128 + 9);

      const counts = await kidCounts(vault);
      expect(counts.k2).toBeGreaterThan(0);
      expect(counts.k2).toBeLessThan(total);
      expect(counts.k2 % batchSize).toBe(0); // no half batch
      expect(counts.k2 + counts.k1).toBe(total);

      // "After a restart": every credential opens with the ring, with what was stored.
      const opened = await openEverything(vault, k2k1);
      expect(opened.size).toBe(total);
      for (const i of [0, counts.k2 - 1, counts.k2, total - 1]) {
        // Rotated credentials dropped their access token (a cache); the others kept theirs.
        expect(opened.get(seededSub(i))).toEqual({
          refresh: seededTokens(i).refreshToken,
          access: i < counts.k2 ? null : seededTokens(i).accessToken,
        });
      }

      const resumed = await rotateCredentials(vault.database.db, k2k1, { batchSize: 1_000 });
      expect(resumed).toMatchObject({
        total: total - counts.k2,
        rotated: total - counts.k2,
        failed: [],
      });
      expect((await openEverything(vault, Keyring.parse(k2Line))).size).toBe(total);
    } finally {
      await vault.close();
    }
  }, 120_000);
});

describe("SIGKILL in the middle of writes on the embedded default", () => {
  it("after a restart every credential opens and none that was reported saved is lost", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "steward-crash-"));
    dirs.push(dataDir);
    const writer = runFixture("write-loop.ts", [], {
      STEWARD_DATA_DIR: dataDir,
      STEWARD_KEYS: k1Line,
    });
    children.push(writer);
    await writer.waitFor(/saved 150\n/, 90_000);
    writer.process.kill("SIGKILL");
    expect(await writer.exited()).toBe(128 + 9);
    const reported = [...writer.output().matchAll(/saved (\d+)\n/g)].map((m) => Number(m[1]));
    const lastReported = Math.max(...reported);

    // The restart: its embedded PostgreSQL was orphaned by the kill; this start stops it,
    // recovers the cluster and takes over the data dir.
    const vault = await openVault({ dataDir, keyring: k1, handleSignals: false });
    try {
      const opened = await openEverything(vault, k1);
      const count = opened.size;
      expect(count).toBeGreaterThanOrEqual(lastReported + 1);
      expect(count).toBeLessThanOrEqual(lastReported + 2); // at most the one in flight
      for (let i = 0; i < count; i++) {
        const sub = `w${String(i).padStart(6, "0")}`;
        const tokens = writeLoopTokens(i);
        const credential = opened.get(sub);
        expect(credential?.refresh).toBe(tokens.refreshToken);
        // The last one may have been killed between its two statements; each is whole.
        if (i <= lastReported) expect(credential?.access).toBe(tokens.accessToken);
        else expect([null, tokens.accessToken]).toContain(credential?.access);
      }
    } finally {
      await vault.close();
    }
  }, 120_000);
});
