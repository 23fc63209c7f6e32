// `steward doctor` beside a running service in emulator mode with its embedded PostgreSQL (what
// `npm start` runs): every check that applies passes, the others say why they are skipped; then
// each check is made to fail in turn, by the environment of the doctor process alone.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { writeClientSecretFile } from "@steward/emulator";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CLIENT_FILE } from "../../src/cli/core.js";
import { generateKeyLine } from "../../src/crypto/index.js";
import { reserveLoopbackPort } from "../../src/shared/free-port.js";
import { control } from "../emulator/helpers.js";
import {
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";

let steward: TestService;
/** The environment of a shell with none of Steward's settings, and the service's data dir. */
let base: NodeJS.ProcessEnv;

beforeAll(async () => {
  steward = await startTestService();
  // What `steward start` writes for the commands run beside it.
  await writeClientSecretFile(
    join(steward.dataDir, EMULATOR_CLIENT_FILE),
    steward.google.url,
    steward.google.defaultClient,
  );
  await signInThroughService(steward, "doctor@example.com", {
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(STEWARD_|DATABASE_URL|GOOGLE_)/.test(name)),
  );
  base = { ...clean, STEWARD_DATA_DIR: steward.dataDir };
}, 120_000);
afterAll(() => steward?.close());

interface Run {
  code: number;
  stdout: string;
  /** The line of each check, by name. */
  lines: Record<string, string>;
}

function doctor(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", "doctor", ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        if (stderr.trim() !== "") return reject(new Error(`doctor wrote to stderr: ${stderr}`));
        const lines = Object.fromEntries(
          stdout
            .trim()
            .split("\n")
            .map((line) => [line.split(/\s+/)[1] as string, line]),
        );
        resolve({ code: error ? (error.code as number) : 0, stdout, lines });
      },
    );
  });
}

const CHECKS = [
  "settings",
  "database",
  "privileges",
  "listen",
  "locks",
  "schema",
  "keys",
  "google",
  "clock",
  "https",
  "metrics",
];

/** Each check's status word, by name. */
const statuses = (run: Run) =>
  Object.fromEntries(Object.entries(run.lines).map(([name, line]) => [name, line.split(" ")[0]]));

describe("steward doctor", () => {
  it("passes beside `npm start`'s defaults, naming the check that does not apply", async () => {
    const run = await doctor(base);
    expect(Object.keys(run.lines)).toEqual(CHECKS);
    expect(statuses(run)).toEqual({
      ...Object.fromEntries(CHECKS.map((name) => [name, "ok"])),
      https: "skip",
    });
    expect(run.lines.https).toMatch(/^skip\s+https\s+skipped: listens on 127\.0\.0\.1/);
    expect(run.lines.database).toMatch(/reachable as \S+@127\.0\.0\.1:\d+\/\S+ .*PostgreSQL \d+/);
    expect(run.lines.keys).toMatch(
      /generated-\S+ \(active\) seals 1; 2 sampled sealed tokens open/,
    );
    expect(run.lines.google).toContain(`client ${steward.google.defaultClient.clientId} accepted`);
    expect(run.code).toBe(0);
    // No secret of the deployment is printed.
    const { STEWARD_KEYS, DATABASE_URL } = await sharedEnvironment(steward);
    expect(run.stdout).not.toContain((STEWARD_KEYS as string).split(":")[1]);
    expect(run.stdout).not.toContain(new URL(DATABASE_URL as string).password);
    expect(run.stdout).not.toContain(steward.google.defaultClient.clientSecret as string);
  }, 60_000);
});

// Each in a doctor process of its own, one after the other (a doctor costs ~3 s of CPU, so side
// by side they would only wait for each other on a busy machine).
describe("steward doctor, each check broken in turn", () => {
  it("fails a bad setting, skipping what needs settings", async () => {
    const run = await doctor({ ...base, STEWARD_PORT: "eighty" });
    expect(run.lines.settings).toMatch(
      /^FAIL\s+settings\s+STEWARD_PORT must be a port number.*: fix these variables/,
    );
    expect(run.lines.database).toMatch(/^skip\s+database\s+skipped: needs valid settings/);
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails an unreachable database", async () => {
    // A port nothing listens on: taken, then let go.
    const closed = await reserveLoopbackPort();
    await closed.release();
    const url = `postgres://steward:not-a-real-password@127.0.0.1:${closed.port}/steward`;
    const run = await doctor({ ...base, DATABASE_URL: url });
    expect(run.lines.database).toMatch(/^FAIL\s+database\s+cannot connect to steward@127\.0\.0\.1/);
    expect(run.lines.database).toContain("check DATABASE_URL");
    expect(run.stdout).not.toContain("not-a-real-password");
    expect(run.lines.schema).toMatch(/skipped: needs the database/);
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails a database without Steward's schema, and does not create it", async () => {
    const { DATABASE_URL } = await sharedEnvironment(steward);
    const db = steward.service.vault.database.db;
    await sql`CREATE DATABASE doctor_empty`.execute(db);
    const url = new URL(DATABASE_URL as string);
    url.pathname = "/doctor_empty";
    const run = await doctor({ ...base, DATABASE_URL: url.href });
    expect(run.lines.database).toMatch(/^ok/);
    expect(run.lines.schema).toMatch(/^FAIL\s+schema\s+This database holds no Steward schema/);
    expect(run.lines.schema).toContain("the doctor never migrates");
    expect(run.lines.keys).toMatch(/skipped: needs a current schema/);
    expect(run.code).toBe(1);
    // Nothing was migrated: the database still holds no table.
    const empty = new pg.Client({ connectionString: url.href });
    await empty.connect();
    try {
      const { rows } = await empty.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await empty.end();
    }
  }, 60_000);

  it("fails a keyring without the key that sealed the credentials", async () => {
    const run = await doctor({ ...base, STEWARD_KEYS: generateKeyLine("k9") });
    expect(run.lines.keys).toMatch(
      /^FAIL\s+keys\s+credentials the keyring cannot open: 1 sealed with generated-\S+, which STEWARD_KEYS lacks: add that key back/,
    );
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails a key that has the right id but other bytes: sampled tokens do not open", async () => {
    const { STEWARD_KEYS } = await sharedEnvironment(steward);
    const kid = (STEWARD_KEYS as string).split(":")[0] as string;
    const run = await doctor({ ...base, STEWARD_KEYS: generateKeyLine(kid) });
    expect(run.lines.keys).toMatch(
      /^FAIL\s+keys\s+2 of 2 sampled sealed tokens do not open .*: STEWARD_KEYS holds a different key under the same key id/,
    );
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails a client Google refuses", async () => {
    const run = await doctor({
      ...base,
      STEWARD_GOOGLE: steward.google.url,
      GOOGLE_CLIENT_ID: steward.google.defaultClient.clientId,
      GOOGLE_CLIENT_SECRET: "GOCSPX-not-the-secret",
    });
    expect(run.lines.google).toMatch(/^FAIL\s+google\s+.*refused client .* \(invalid_client\)/);
    expect(run.lines.google).toContain("download the web client's JSON again");
    expect(run.stdout).not.toContain("GOCSPX-not-the-secret");
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails a clock off from Google's", async () => {
    await control(steward.google, "PUT", "/emulator/settings", { dateSkewSeconds: 120 });
    try {
      const run = await doctor(base);
      expect(run.lines.clock).toMatch(/^FAIL\s+clock\s+this machine's clock is 1[12]\d s behind/);
      expect(run.lines.clock).toContain("synchronise the clock with NTP");
      expect(run.code).toBe(1);
    } finally {
      await control(steward.google, "PUT", "/emulator/settings", { dateSkewSeconds: 0 });
    }
  }, 60_000);

  it("fails plain HTTP off loopback with no trusted proxy", async () => {
    const run = await doctor({
      ...base,
      STEWARD_HOST: "0.0.0.0",
      STEWARD_METRICS_TOKEN: "m".repeat(32),
    });
    expect(run.lines.https).toMatch(/^FAIL\s+https\s+listens on 0\.0\.0\.0 over plain HTTP/);
    expect(run.lines.https).toContain("STEWARD_TRUST_PROXY");
    expect(run.lines.metrics).toMatch(/^ok/);
    expect(run.code).toBe(1);
  }, 60_000);

  it("fails /metrics open off loopback without a token", async () => {
    // (--json: the same results, one object each.)
    const run = await doctor(
      { ...base, STEWARD_HOST: "0.0.0.0", STEWARD_TRUST_PROXY: "10.0.0.1" },
      "--json",
    );
    const results = JSON.parse(run.stdout).results;
    expect(results.map((result: { name: string }) => result.name)).toEqual(CHECKS);
    const byName = Object.fromEntries(
      results.map((result: { name: string }) => [result.name, result]),
    );
    expect(byName.https).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("behind TLS-terminating proxies 10.0.0.1"),
    });
    expect(byName.metrics).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("/metrics is served without a token on 0.0.0.0:"),
      advice: expect.stringContaining("set STEWARD_METRICS_TOKEN"),
    });
    expect(run.code).toBe(1);
  }, 60_000);
});
