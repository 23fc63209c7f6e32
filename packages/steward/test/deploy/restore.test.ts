import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Emulator, startEmulator } from "@steward/emulator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine } from "../../src/crypto/index.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "../server/helpers.js";
import { blockStartingWith, DEPLOY_DOC } from "./support.js";

// docs/deploy.md's backup and restore, run as written. The database is Debian's PostgreSQL of
// TEST_DATABASE_URL (CI sets it), not the embedded one: the embedded package ships no pg_dump,
// and the system's pg_dump cannot dump a newer server. The admin URL creates a role that is no
// superuser and owns only its databases, the privileges the doc asks for; Steward and the
// restore run as that role.
const adminUrl = process.env.TEST_DATABASE_URL || undefined;
if (adminUrl === undefined && process.env.CI === "true") {
  throw new Error("CI=true but TEST_DATABASE_URL is unset: the restore test would be skipped");
}

const run = promisify(execFile);
const BACKUP = blockStartingWith(DEPLOY_DOC, "sh", "# Back up\n");
const RESTORE = blockStartingWith(DEPLOY_DOC, "sh", "# Restore ");
const EMAILS = ["ada@example.com", "grace@example.com", "edsger@example.com"];

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(adminUrl === undefined)("docs/deploy.md's backup and restore", () => {
  const suffix = randomBytes(5).toString("hex");
  const role = `steward_r_${suffix}`;
  const password = randomBytes(12).toString("hex");
  const original = `steward_r_${suffix}_a`;
  const restored = `steward_r_${suffix}_b`;
  const urlOf = (database: string) => {
    const url = new URL(adminUrl as string);
    url.username = role;
    url.password = password;
    url.pathname = `/${database}`;
    return url.toString();
  };
  let workDir: string;
  let google: Emulator;
  let env: Record<string, string>;
  const services: TestService[] = [];

  beforeAll(async () => {
    await admin(adminUrl as string, async (client) => {
      await client.query(
        `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`,
      );
      await client.query(`CREATE DATABASE ${original} OWNER ${role}`);
      await client.query(`CREATE DATABASE ${restored} OWNER ${role}`);
    });
    workDir = await mkdtemp(join(tmpdir(), "steward-restore-"));
    // One Google for both services: the restored refresh tokens must be ones it issued.
    google = await startEmulator({ port: 0 });
    env = {
      STEWARD_KEYS: generateKeyLine(),
      STEWARD_GOOGLE: google.url,
      GOOGLE_CLIENT_ID: google.defaultClient.clientId,
      GOOGLE_CLIENT_SECRET: google.defaultClient.clientSecret ?? "",
    };
  });

  afterAll(async () => {
    for (const service of services) await service.close();
    await google?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await admin(adminUrl as string, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${original} WITH (FORCE)`);
      await client.query(`DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  it("restores every credential: each opens and refreshes with the same STEWARD_KEYS", async () => {
    const superuser = await admin(adminUrl as string, (client) =>
      client.query("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = $1", [
        role,
      ]),
    );
    expect(superuser.rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false }]);

    // A service on a role that owns only its database migrates, creates pg-boss's schema and
    // signs users in.
    const first = await startTestService({ ...env, DATABASE_URL: urlOf(original) });
    services.push(first);
    const subs: string[] = [];
    for (const email of EMAILS) {
      const { serverAuthCode, sub } = await sdkSignIn(google, {
        email,
        scopes: ["https://www.googleapis.com/auth/drive.appdata"],
      });
      expect((await postCode(first.url, { code: serverAuthCode })).status).toBe(200);
      subs.push(sub);
    }

    // The backup is taken while the service runs, as the doc says it may be.
    await run("bash", ["-euo", "pipefail", "-c", BACKUP], {
      cwd: workDir,
      env: { ...process.env, DATABASE_URL: urlOf(original) },
    });
    await first.close();
    services.splice(services.indexOf(first), 1);
    await run("bash", ["-euo", "pipefail", "-c", RESTORE], {
      cwd: workDir,
      env: { ...process.env, RESTORE_URL: urlOf(restored) },
    });

    const owners = await admin(urlOf(restored), (client) =>
      client.query(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('public', 'pgboss')",
      ),
    );
    expect(owners.rows).toEqual([{ tableowner: role }]);

    const second = await startTestService({ ...env, DATABASE_URL: urlOf(restored) });
    services.push(second);
    await control(google, "DELETE", "/emulator/stats");
    for (const sub of subs) {
      // The stored access token opens (a fresh service has nothing cached)...
      const stored = await second.service.tokens.accessToken(sub);
      // ...and so does the refresh token: refused, the access token is refreshed at Google.
      const refreshed = await second.service.tokens.accessToken(sub, {
        rejectedToken: stored.token,
      });
      expect(refreshed.token).not.toBe(stored.token);
      expect(refreshed.scopes).toContain("https://www.googleapis.com/auth/drive.appdata");
    }
    const stats = (await control(google, "GET", "/emulator/stats")).body;
    for (const sub of subs) expect(stats.grantsBySub[sub]?.refresh_token).toBe(1);
    const active = await admin(urlOf(restored), (client) =>
      client.query("SELECT sub FROM credentials WHERE status = 'active' ORDER BY sub"),
    );
    expect(active.rows.map((row) => row.sub)).toEqual([...subs].sort());
  });
});
