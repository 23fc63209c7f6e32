import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateKeyLine,
  Keyring,
  keyUsage,
  type RotationProgress,
  rotateCredentials,
} from "../../src/crypto/index.js";
import { openVault, type Vault } from "../../src/vault/index.js";
import { startEmbeddedTestServer, type TestServer } from "./support/databases.js";
import { recordRefresh } from "./support/locked-users.js";
import { seedCredentials, seededSub, seededTokens } from "./support/seed.js";

const k1Line = generateKeyLine("k1");
const k1 = Keyring.parse(k1Line);
const k2Line = generateKeyLine("k2");
const k2k1 = Keyring.parse(`${k2Line},${k1Line}`);
let server: TestServer;
beforeAll(async () => {
  server = await startEmbeddedTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** A fresh database with `count` credentials sealed by k1, opened with the ring [k2, k1]. */
async function seeded(
  count: number,
  options: { accessExpiresInMs?: number } = {},
): Promise<Vault & { databaseUrl: string }> {
  const databaseUrl = await server.createDatabase();
  const old = await openVault({ databaseUrl, keyring: k1 });
  await seedCredentials(old.database.db, k1, count, options);
  await old.close();
  return Object.assign(await openVault({ databaseUrl, keyring: k2k1 }), { databaseUrl });
}

async function kidCounts(vault: Vault): Promise<Record<string, number>> {
  const usage = await keyUsage(vault.database.db, vault.keyring);
  return Object.fromEntries(usage.map((entry) => [entry.kid, entry.credentials]));
}

describe("rotateCredentials", () => {
  it("re-seals every credential under the active key, batch by batch", async () => {
    const vault = await seeded(2_500);
    try {
      expect(await kidCounts(vault)).toEqual({ k2: 0, k1: 2_500 });
      const progress: RotationProgress[] = [];
      const summary = await rotateCredentials(vault.database.db, vault.keyring, {
        batchSize: 1_000,
        onProgress: (p) => progress.push(p),
      });
      expect(summary).toMatchObject({
        activeKid: "k2",
        total: 2_500,
        rotated: 2_500,
        failed: [],
        interrupted: false,
      });
      expect(progress.map((p) => p.done)).toEqual([1_000, 2_000, 2_500]);
      expect(await kidCounts(vault)).toEqual({ k2: 2_500, k1: 0 });
      // k1 seals nothing now: a Steward started with k2 alone opens everything.
      const k2Only = await openVault({
        databaseUrl: vault.databaseUrl,
        keyring: Keyring.parse(k2Line),
      });
      try {
        for (const i of [0, 1_234, 2_499]) {
          // The refresh token is re-sealed; the access token (a cache) was dropped, not re-sealed.
          expect(await k2Only.store.getCredential(seededSub(i))).toMatchObject({
            refreshToken: seededTokens(i).refreshToken,
            accessToken: null,
            accessTokenExpiresAt: null,
          });
        }
      } finally {
        await k2Only.close();
      }
      // A second run finds nothing to do.
      expect(await rotateCredentials(vault.database.db, vault.keyring)).toMatchObject({
        total: 0,
        rotated: 0,
      });
    } finally {
      await vault.close();
    }
  });

  it("stops between batches when asked, and a second run finishes the job", async () => {
    const vault = await seeded(1_000);
    try {
      const abort = new AbortController();
      const first = await rotateCredentials(vault.database.db, vault.keyring, {
        batchSize: 100,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.done >= 300) abort.abort();
        },
      });
      expect(first.interrupted).toBe(true);
      expect(first.rotated % 100).toBe(0);
      expect(first.rotated).toBeGreaterThanOrEqual(300);
      expect(first.rotated).toBeLessThan(1_000);
      const counts = await kidCounts(vault);
      expect(counts).toEqual({ k2: first.rotated, k1: 1_000 - first.rotated });

      // Meanwhile every credential opens, whichever key seals it.
      const opened = await Promise.all(
        [0, 150, 450, 999].map((i) => vault.store.getCredential(seededSub(i))),
      );
      expect(opened.map((c) => c?.refreshToken)).toEqual(
        [0, 150, 450, 999].map((i) => seededTokens(i).refreshToken),
      );

      const second = await rotateCredentials(vault.database.db, vault.keyring, { batchSize: 100 });
      expect(second).toMatchObject({
        total: 1_000 - first.rotated,
        rotated: 1_000 - first.rotated,
        interrupted: false,
      });
      expect(await kidCounts(vault)).toEqual({ k2: 1_000, k1: 0 });
    } finally {
      await vault.close();
    }
  });

  it("drops access tokens that have expired instead of re-sealing them", async () => {
    const vault = await seeded(10, { accessExpiresInMs: -1_000 });
    try {
      await rotateCredentials(vault.database.db, vault.keyring);
      const credential = await vault.store.getCredential(seededSub(3));
      expect(credential).toMatchObject({
        refreshToken: seededTokens(3).refreshToken,
        accessToken: null,
        accessTokenExpiresAt: null,
      });
    } finally {
      await vault.close();
    }
  });

  it("leaves a credential that does not open as it is, lists it, and rotates the rest", async () => {
    const vault = await seeded(50);
    try {
      const broken = seededSub(17);
      await sql`UPDATE credentials SET refresh_token = set_byte(refresh_token, 30, get_byte(refresh_token, 30) # 4)
        WHERE sub = ${broken}`.execute(vault.database.db);
      const summary = await rotateCredentials(vault.database.db, vault.keyring, { batchSize: 20 });
      expect(summary).toMatchObject({ rotated: 49, failed: [broken] });
      expect(await kidCounts(vault)).toEqual({ k2: 49, k1: 1 });
    } finally {
      await vault.close();
    }
  });

  it("loses no write made by the token manager while it runs", async () => {
    const vault = await seeded(3_000);
    try {
      const later = new Date(Date.now() + 3_600_000);
      const rotation = rotateCredentials(vault.database.db, vault.keyring, { batchSize: 100 });
      const touched = Array.from({ length: 60 }, (_, n) => seededSub(n * 50));
      await Promise.all(
        touched.map((sub) =>
          recordRefresh(vault.store, sub, {
            accessToken: `ya29.during-${sub}`,
            expiresAt: later,
            refreshToken: `1//during-${sub}`,
          }),
        ),
      );
      await rotation;
      // Writers seal with the active key too, so nothing is left under k1.
      expect(await kidCounts(vault)).toEqual({ k2: 3_000, k1: 0 });
      for (const sub of touched) {
        expect(await vault.store.getCredential(sub)).toMatchObject({
          accessToken: `ya29.during-${sub}`,
          refreshToken: `1//during-${sub}`,
        });
      }
    } finally {
      await vault.close();
    }
  });
});
