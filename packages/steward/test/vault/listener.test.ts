// Database.listen: NOTIFYs reach the callback with their payload over a connection of its own,
// which is opened again when lost (the callback is then called once without a payload, for what
// was missed). Real PostgreSQL.
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Database, LISTENER_APPLICATION_NAME, openDatabase } from "../../src/store/index.js";
import { waitUntil } from "../events/support/receiver.js";
import { startEmbeddedTestServer, type TestServer } from "./support/databases.js";
import { capturedLogger } from "./support/logs.js";

let server: TestServer;
beforeAll(async () => {
  server = await startEmbeddedTestServer();
}, 120_000);
afterAll(() => server?.close());

/** The listening sessions on this database. */
async function listeners(database: Database): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
    WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()
      AND query LIKE 'LISTEN%'`.execute(database.db);
  return rows.map((row) => row.pid);
}

it("delivers NOTIFYs with their payloads, survives the loss of its connection, and closes it", async () => {
  const logs = capturedLogger();
  const database = await openDatabase({
    databaseUrl: await server.createDatabase(),
    logger: logs.logger,
  });
  try {
    const heard: (string | undefined)[] = [];
    const listening = database.listen("steward_test_events", (payload) => {
      heard.push(payload);
    });
    const calls = () => heard.length;
    await waitUntil(async () => (await listeners(database)).length === 1, "the LISTEN");
    // Anything sent before the LISTEN took effect was missed: the first call says so.
    await waitUntil(() => calls() === 1, "the call once listening");
    await sql`NOTIFY steward_test_events, 'sub-1'`.execute(database.db);
    await sql`NOTIFY other_channel`.execute(database.db);
    await waitUntil(() => calls() === 2, "the first notification");

    // The server ends the session, as a restart or a network fault would.
    const [pid] = await listeners(database);
    await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(database.db);
    await waitUntil(() => calls() === 3, "the call after reconnecting");
    const [again] = await listeners(database);
    expect(again).toBeDefined();
    expect(again).not.toBe(pid);
    await sql`NOTIFY steward_test_events`.execute(database.db);
    await waitUntil(() => calls() === 4, "a notification on the new connection");
    expect(heard).toEqual([undefined, "sub-1", undefined, ""]);
    expect(logs.text()).toContain("the LISTEN connection was lost");

    await listening.close();
    await waitUntil(async () => (await listeners(database)).length === 0, "the close");
    await sql`NOTIFY steward_test_events`.execute(database.db);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls()).toBe(4);
  } finally {
    await database.close();
  }
}, 30_000);

it("refuses a channel name that is not an identifier", async () => {
  const database = await openDatabase({ databaseUrl: await server.createDatabase() });
  try {
    expect(() => database.listen("x; DROP TABLE users", () => undefined)).toThrow(TypeError);
  } finally {
    await database.close();
  }
});
