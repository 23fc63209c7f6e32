// Fault: Steward's PostgreSQL stops for ten seconds under load, then comes back on its port.
// While it is down, what needs the database answers 503 `database_unavailable` (it does not
// hang until PostgreSQL returns) and `/readyz` says not ready; once it is back Steward serves
// again by itself, without a restart; and every sign-in it acknowledged is stored, its
// credential intact.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/embedded-postgres/index.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { removeDataDir } from "../vault/support/databases.js";
import { expectEveryCredentialWorks } from "./support/credentials.js";
import { failuresOf, startLoad, until } from "./support/load.js";

const ADMIN_TOKEN = "admin-token-for-the-database-outage-test-0123";
const OUTAGE_MS = 10_000;

let postgresDir: string;
let postgres: EmbeddedPostgres | undefined;
let steward: TestService;

/** A PostgreSQL of its own, outside Steward's data dir, that the test stops and starts. */
const startPostgres = () =>
  startEmbeddedPostgres({ dataDir: postgresDir, purpose: "fault test", handleSignals: false });

beforeAll(async () => {
  postgresDir = await mkdtemp(join(tmpdir(), "steward-outage-postgres-"));
  postgres = await startPostgres();
  const { host, port, user, password, database } = postgres.connection();
  steward = await startTestService({
    DATABASE_URL: `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`,
    STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
  });
}, 120_000);
afterAll(async () => {
  await steward?.close();
  await postgres?.stop();
  if (postgresDir !== undefined) await removeDataDir(postgresDir);
});

const readiness = async () => {
  const response = await fetch(`${steward.url}/readyz`);
  return { status: response.status, body: await response.json() };
};

it("fails fast with 503 while PostgreSQL is down, recovers by itself, and loses nothing acknowledged", async () => {
  const users: string[] = [];
  for (let i = 0; i < 5; i++)
    users.push(await signInThroughService(steward, `outage-${i}@example.com`));
  const load = startLoad({
    google: steward.google,
    targets: [steward.url],
    users,
    adminToken: ADMIN_TOKEN,
    prefix: "outage-load",
  });
  try {
    load.phase = "up";
    await until("acknowledged sign-ins under load", () => load.acknowledged.length >= 5);

    const port = postgres?.port;
    await postgres?.stop(); // fast shutdown: connections cut, open transactions rolled back
    postgres = undefined;
    load.phase = "down";
    const stoppedAt = Date.now();
    // Requests that need the database are answered while it is still down: nothing waits for it.
    await until("a sign-in answered 503 while PostgreSQL is down", () =>
      load.answers.some((answer) => answer.phase === "down" && answer.status === 503),
    );
    const notReady = await readiness();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ ready: false, checks: { database: false } });
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));

    load.phase = "restarting";
    postgres = await startPostgres();
    expect(postgres.port).toBe(port);
    await until("/readyz ready again", async () => (await readiness()).status === 200);
    load.phase = "recovered";
    const before = load.acknowledged.length;
    await until(
      "sign-ins acknowledged after recovery",
      () => load.acknowledged.length >= before + 5,
    );
  } finally {
    await load.stop();
  }
  // Up to the restart, every answer is a success (a token still cached, a request done before
  // the stop) or the typed 503: a request cut by the stop included.
  expect(
    ["up", "down"]
      .flatMap((phase) => failuresOf(load, phase))
      .filter((failure) => !/ 503 database_unavailable$/.test(failure)),
  ).toEqual([]);
  expect(failuresOf(load, "recovered")).toEqual([]);
  expect(load.answers.filter((answer) => answer.phase === "down").length).toBeGreaterThan(0);

  const checked = await expectEveryCredentialWorks(steward.service.vault, steward.google, [
    ...users,
    ...load.acknowledged,
  ]);
  expect(checked).toBeGreaterThanOrEqual(users.length + load.acknowledged.length);
}, 180_000);
