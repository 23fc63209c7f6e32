import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring, rotateCredentials } from "../../src/crypto/index.js";
import { openVault, type Vault } from "../../src/vault/index.js";
import { everyRowAsText, spellings } from "../security/support.js";
import { startEmbeddedTestServer, type TestServer } from "./support/databases.js";
import { recordRefresh } from "./support/locked-users.js";
import { capturedLogger } from "./support/logs.js";

const k1Line = generateKeyLine("k1");
const k2Line = generateKeyLine("k2");
const log = capturedLogger();
let server: TestServer;
let vault: Vault;

beforeAll(async () => {
  server = await startEmbeddedTestServer();
  vault = await openVault({
    databaseUrl: await server.createDatabase(),
    keyring: Keyring.parse(k1Line),
    logger: log.logger,
  });
});
afterAll(async () => {
  await vault?.close();
  await server?.close();
});

const refreshToken = () => `1//0g${randomBytes(48).toString("base64url")}`;
const accessToken = () => `ya29.a0${randomBytes(120).toString("base64url")}`;
const later = (ms: number) => new Date(Date.now() + ms);

describe("secrets at rest", () => {
  it("no table, no data file and no WAL segment holds a token or a key in plaintext", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) {
      const sub = `10${i}${randomBytes(6).readUIntBE(0, 6)}`;
      const [rt, at] = [refreshToken(), accessToken()];
      tokens.push(rt, at);
      await vault.store.upsertUser({ sub, email: `u${i}@example.com`, name: `User ${i}` });
      await vault.store.saveCredential({
        sub,
        refreshToken: rt,
        grantedScopes: ["openid", "email"],
        accessToken: { token: at, expiresAt: later(3_600_000) },
      });
      if (i % 3 === 0) {
        const refreshed = accessToken();
        tokens.push(refreshed);
        await recordRefresh(vault.store, sub, {
          accessToken: refreshed,
          expiresAt: later(3_600_000),
        });
      }
      if (i % 5 === 0) await vault.store.markRevoked(sub, "invalid_grant");
      await vault.store.appendAuditEvent({ type: "credential.saved", sub, data: { scopes: 2 } });
    }
    // Rotation rewrites every sealed value too.
    await rotateCredentials(vault.database.db, Keyring.parse(`${k2Line},${k1Line}`));

    const { tables, text: dump } = await everyRowAsText(vault.database.db);
    expect(tables).toEqual(
      expect.arrayContaining([
        "public.users",
        "public.credentials",
        "public.api_keys",
        "public.audit_events",
      ]),
    );
    expect(dump).toContain("u1@example.com"); // the scan does read the rows
    const secrets = [...tokens, k1Line.slice(3), k2Line.slice(3)];
    for (const secret of secrets) {
      for (const spelling of spellings(secret)) expect(dump).not.toContain(spelling);
    }

    // On disk: flush everything, then read the cluster's heap files and WAL.
    await sql`CHECKPOINT`.execute(vault.database.db);
    const clusterDir = server.clusterDir as string;
    const files = listFiles(clusterDir);
    expect(files.some((file) => file.includes("pg_wal"))).toBe(true);
    const probe = Buffer.from("u1@example.com");
    let probeSeen = false;
    for (const file of files) {
      const content = readFileSync(file);
      if (content.includes(probe)) probeSeen = true;
      for (const secret of secrets) expect(content.includes(Buffer.from(secret)), file).toBe(false);
    }
    expect(probeSeen).toBe(true); // plaintext columns are found, so the search works
    for (const secret of secrets) expect(log.text()).not.toContain(secret);
  });

  it("a tampered ciphertext fails as credential_corrupt for that user only, logged without secrets", async () => {
    const [victim, bystander] = ["2001", "2002"];
    const victimToken = refreshToken();
    for (const [sub, rt] of [
      [victim, victimToken],
      [bystander, refreshToken()],
    ] as const) {
      await vault.store.upsertUser({ sub });
      await vault.store.saveCredential({ sub, refreshToken: rt, grantedScopes: [] });
    }
    // Flip one bit of the ciphertext's last byte.
    await sql`UPDATE credentials
      SET refresh_token = set_byte(refresh_token, length(refresh_token) - 1,
                                   get_byte(refresh_token, length(refresh_token) - 1) # 1)
      WHERE sub = ${victim}`.execute(vault.database.db);
    const before = log.lines.length;
    await expect(vault.store.getCredential(victim)).rejects.toMatchObject({
      code: "credential_corrupt",
    });
    // Read under the lock with a bystander, it fails for the victim alone.
    await vault.store.withLockedUsers([victim, bystander], async (held) => {
      const read = await held.read();
      expect(() => read.credential(victim)).toThrow(
        expect.objectContaining({ code: "credential_corrupt" }),
      );
      expect(read.credential(bystander)?.refreshToken).toMatch(/^1\/\//);
    });
    const entries = log.lines.slice(before).map((line) => JSON.parse(line));
    expect(entries[0]).toMatchObject({
      level: 50,
      code: "credential_corrupt",
      sub: victim,
      field: "refresh_token",
      kid: "k1",
    });
    expect(JSON.stringify(entries)).not.toContain(victimToken);
    expect(JSON.stringify(entries)).not.toContain(victimToken.slice(5, 20));

    expect((await vault.store.getCredential(bystander))?.refreshToken).toBeDefined();
    expect((await vault.store.getUser(victim))?.credential?.status).toBe("active");
    expect((await vault.store.listUsers()).length).toBeGreaterThan(1);
  });

  it("a sealed token copied into another user's row does not open there", async () => {
    const [owner, thief] = ["3001", "3002"];
    for (const sub of [owner, thief]) {
      await vault.store.upsertUser({ sub });
      await vault.store.saveCredential({ sub, refreshToken: refreshToken(), grantedScopes: [] });
    }
    await sql`UPDATE credentials SET refresh_token = (SELECT refresh_token FROM credentials WHERE sub = ${owner})
      WHERE sub = ${thief}`.execute(vault.database.db);
    await expect(vault.store.getCredential(thief)).rejects.toMatchObject({
      code: "credential_corrupt",
    });
    expect((await vault.store.getCredential(owner))?.refreshToken).toMatch(/^1\/\//);
    // Nor does an access token moved into the refresh-token column of its own row.
    await vault.store.saveCredential({
      sub: owner,
      grantedScopes: [],
      accessToken: { token: accessToken(), expiresAt: later(60_000) },
    });
    await sql`UPDATE credentials SET refresh_token = access_token WHERE sub = ${owner}`.execute(
      vault.database.db,
    );
    await expect(vault.store.getCredential(owner)).rejects.toMatchObject({
      code: "credential_corrupt",
    });
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
