import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { control } from "../emulator/helpers.js";
import {
  refreshGrantsOf,
  sharedEnvironment,
  startTestService,
  type TestService,
} from "../server/helpers.js";

let steward: TestService;
let env: NodeJS.ProcessEnv;
let admin: string;
let reader: string;

beforeAll(async () => {
  steward = await startTestService();
  env = { ...process.env, ...(await sharedEnvironment(steward)) };
  const apiKeys = new ApiKeys(steward.service.vault.database.db);
  admin = (await apiKeys.create("ops", ["admin"])).key;
  reader = (await apiKeys.create("bench", ["tokens:read"])).key;
}, 120_000);
afterAll(() => steward?.close());

function seed(...args: string[]) {
  return promisify(execFile)(
    "npx",
    ["tsx", "packages/steward/test/cli/support/run-cli.ts", "seed", ...args],
    {
      env,
      timeout: 120_000,
    },
  );
}

async function storedUsers(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users`.execute(
    steward.service.vault.database.db,
  );
  return rows[0]?.n ?? 0;
}

/** Every user the API lists, paging through it. */
async function listedUsers(): Promise<any[]> {
  const users = [];
  let after: string | null = "";
  while (after !== null) {
    const query: string = after === "" ? "" : `&after=${after}`;
    const response = await fetch(`${steward.url}/v1/users?limit=100${query}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { users: any[]; nextCursor: string | null };
    users.push(...page.users.map((entry) => ({ ...entry.user, credential: entry.credential })));
    after = page.nextCursor;
  }
  return users;
}

async function accessToken(sub: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${steward.url}/v1/users/${sub}/access-token`, {
    headers: { authorization: `Bearer ${reader}` },
  });
  return { status: response.status, body: await response.json() };
}

describe("steward seed", () => {
  it("refuses outside emulator mode, writing nothing", async () => {
    await expect(
      promisify(execFile)(
        "npx",
        ["tsx", "packages/steward/test/cli/support/run-cli.ts", "seed", "--users", "10"],
        {
          env: { ...env, STEWARD_GOOGLE: "google" },
          timeout: 60_000,
        },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("emulator mode only") });
    expect(await storedUsers()).toBe(0);
  }, 120_000);

  it("creates users with sealed credentials that open, and grants the emulator refreshes", async () => {
    const { stdout } = await seed("--users", "2000", "--batch-size", "700");
    expect(stdout).toMatch(/^Seeded 2000 users in [\d.]+ s \(\d+ users\/s\)\.$/m);

    const users = await listedUsers();
    expect(users).toHaveLength(2000);
    expect(new Set(users.map((user) => user.sub)).size).toBe(2000);
    for (const user of users) {
      expect(user.email).toMatch(/@seed\.example\.com$/);
      expect(user.credential).toMatchObject({ status: "active" });
    }
    const known = (await control(steward.google, "GET", "/emulator/users")).body.users;
    const profile = known.find((user: any) => user.sub === users[0].sub);
    expect(users[0]).toMatchObject({ email: profile.email, name: profile.name });

    // A random sample's stored access tokens open and are handed out as stored: no refresh.
    await control(steward.google, "DELETE", "/emulator/stats");
    const sample = Array.from({ length: 25 }, () => users[Math.floor(Math.random() * 2000)]);
    for (const user of sample) {
      const { status, body } = await accessToken(user.sub);
      expect(status).toBe(200);
      expect(body.accessToken).toMatch(/^ya29\./);
      const info = await fetch(`${steward.google.url}/tokeninfo?access_token=${body.accessToken}`);
      expect(info.status).toBe(200);
      expect(((await info.json()) as { sub: string }).sub).toBe(user.sub);
      expect(await refreshGrantsOf(steward, user.sub)).toBe(0);
    }

    // The stored refresh token is live at the emulator: an expired access token is refreshed.
    // (A user the sample did not read: the service caches what it hands out.)
    const sub = users.find((user) => !sample.includes(user)).sub as string;
    await sql`UPDATE credentials SET access_token_expires_at = now() - interval '1 minute'
      WHERE sub = ${sub}`.execute(steward.service.vault.database.db);
    const after = await accessToken(sub);
    expect(after.status).toBe(200);
    const info = await fetch(
      `${steward.google.url}/tokeninfo?access_token=${after.body.accessToken}`,
    );
    expect(info.status).toBe(200);
    expect(await refreshGrantsOf(steward, sub)).toBe(1);
  }, 240_000);

  it("refuses a database holding users unless --append", async () => {
    await expect(seed("--users", "10")).rejects.toMatchObject({
      stderr: expect.stringContaining("--append"),
    });
    expect(await storedUsers()).toBe(2000);
    await seed("--users", "10", "--append");
    expect(await storedUsers()).toBe(2010);
  }, 120_000);
});
