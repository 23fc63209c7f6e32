import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebhookOutbox } from "../../src/events/outbox.js";
import { verifyWebhookSignature } from "../../src/events/signature.js";
import type { WebhookEvent } from "../../src/events/webhook-event.js";
import { WebhookDispatcher, type WebhookDispatcherOptions } from "../../src/events/webhooks.js";
import { freeLoopbackPort } from "../../src/shared/index.js";
import type { Database } from "../../src/store/index.js";
import { startEmbeddedTestServer, type TestServer } from "../vault/support/databases.js";
import { capturedLogger } from "../vault/support/logs.js";
import { migratedDatabase, outboxRows } from "./support/outbox-database.js";
import { type Answer, type Receiver, startReceiver, waitUntil } from "./support/receiver.js";

const SECRET = randomBytes(24).toString("base64url");
let server: TestServer;
beforeAll(async () => {
  server = await startEmbeddedTestServer();
}, 120_000);
afterAll(() => server?.close());

// Whatever a test opens is closed after it, dispatchers first, even when it fails.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(options: { port?: number; answer?: Answer } = {}): Promise<Receiver> {
  const started = await startReceiver(options);
  cleanups.push(() => started.close());
  return started;
}

async function connect(database: { connect(): Promise<Database> }): Promise<Database> {
  const opened = await database.connect();
  cleanups.push(() => opened.close());
  return opened;
}

/** A dispatcher with fast polling and a short backoff, started, and stopped after the test. */
function dispatcher(
  db: Database,
  url: string,
  overrides: Partial<WebhookDispatcherOptions> = {},
): WebhookDispatcher {
  const started = new WebhookDispatcher({
    db: db.db,
    url,
    secret: SECRET,
    pollIntervalMs: 20,
    timeoutMs: 2_000,
    leaseMs: 5_000,
    retry: { baseMs: 100, capMs: 1_000, maxAttempts: 5 },
    ...overrides,
  });
  started.start();
  cleanups.push(() => started.stop());
  return started;
}

function verified(request: { headers: Record<string, unknown>; body: string }): WebhookEvent {
  return verifyWebhookSignature(SECRET, request.headers as Record<string, string>, request.body);
}

const delivered = async (db: Database) =>
  (await outboxRows(db.db)).every((row) => row.delivered_at !== null);

describe("WebhookDispatcher", () => {
  it("retries a receiver answering 500 twice, with backoff, then marks the event delivered", async () => {
    const hooks = await receiver({
      answer: (_request, index) =>
        index < 2 ? { status: 500, body: "stack trace with a secret" } : 200,
    });
    const database = await migratedDatabase(server);
    const db = await connect(database);
    const eventId = await new WebhookOutbox(db.db).enqueue("credential.refreshed", {
      sub: "1234",
      expiresAt: new Date("2030-01-01T00:00:00Z"),
    });
    // Jitter at its top: the delays are the steps themselves, 100 then 200 ms.
    dispatcher(db, `${hooks.url}/hooks`, { random: () => 1 });
    await waitUntil(() => delivered(db), "the delivery");

    expect(hooks.requests).toHaveLength(3);
    const [first, second, third] = hooks.requests as [any, any, any];
    expect(second.at - first.at).toBeGreaterThanOrEqual(95);
    expect(third.at - second.at).toBeGreaterThanOrEqual(195);
    for (const request of hooks.requests) {
      expect(request.path).toBe("/hooks");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["steward-webhook-id"]).toBe(eventId);
      expect(verified(request)).toEqual({
        id: eventId,
        type: "credential.refreshed",
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: { sub: "1234", expiresAt: "2030-01-01T00:00:00.000Z" },
      });
    }
    const [row] = await outboxRows(db.db);
    expect(row).toMatchObject({
      event_id: eventId,
      attempts: 3,
      next_attempt_at: null,
      locked_until: null,
      dead_at: null,
      // The reason of the last failure, never the receiver's body.
      last_error: "http_500",
    });
    expect(row?.delivered_at).toBeInstanceOf(Date);
  });

  it("delivers to a receiver that is down at first, once it comes up", async () => {
    const port = await freeLoopbackPort();
    const database = await migratedDatabase(server);
    const db = await connect(database);
    await new WebhookOutbox(db.db).enqueue("credential.revoked", { sub: "77", reason: "x" });
    dispatcher(db, `http://127.0.0.1:${port}/hooks`, { retry: { baseMs: 50, capMs: 200 } });
    await waitUntil(async () => ((await outboxRows(db.db))[0]?.attempts ?? 0) >= 2, "2 attempts");
    expect((await outboxRows(db.db))[0]?.last_error).toBe("network_econnrefused");

    const hooks = await receiver({ port });
    await waitUntil(() => delivered(db), "the delivery");
    expect(hooks.requests).toHaveLength(1);
    expect(verified(hooks.requests[0] as any).data).toEqual({ sub: "77", reason: "x" });
  });

  it("delivers events queued while no dispatcher ran, after a restart, every type as emitted", async () => {
    const hooks = await receiver();
    const database = await migratedDatabase(server);
    // The first "instance": events are queued, then it goes away before any dispatcher ran.
    const before = await database.connect();
    const expiresAt = new Date("2031-02-03T04:05:06.789Z");
    await new WebhookOutbox(before.db).enqueueAll([
      { event: "credential.created", payload: { sub: "1", grantedScopes: ["openid", "email"] } },
      { event: "credential.refreshed", payload: { sub: "1", expiresAt } },
      { event: "credential.scopes_changed", payload: { sub: "1", added: ["a"], removed: [] } },
      { event: "credential.revoked", payload: { sub: "1", reason: "invalid_grant" } },
      { event: "config.client_rejected", payload: { sub: "1", reason: "client_rejected" } },
    ]);
    await before.close();
    expect(hooks.requests).toHaveLength(0);

    // The next instance: a new pool and a new dispatcher on the same database.
    const after = await connect(database);
    dispatcher(after, hooks.url);
    await waitUntil(() => hooks.requests.length === 5 && delivered(after), "5 deliveries");
    const events = hooks.requests.map((request) => verified(request as any));
    expect(Object.fromEntries(events.map((event) => [event.type, event.data]))).toEqual({
      "credential.created": { sub: "1", grantedScopes: ["openid", "email"] },
      "credential.refreshed": { sub: "1", expiresAt: "2031-02-03T04:05:06.789Z" },
      "credential.scopes_changed": { sub: "1", added: ["a"], removed: [] },
      "credential.revoked": { sub: "1", reason: "invalid_grant" },
      "config.client_rejected": { sub: "1", reason: "client_rejected" },
    });
    expect(new Set(events.map((event) => event.id)).size).toBe(5);
  });

  it("with two dispatchers (two instances) on one database, delivers each event once", async () => {
    // A slow receiver keeps claims in flight, so that both dispatchers take part.
    const hooks = await receiver({ answer: () => ({ status: 204, delayMs: 30 }) });
    const database = await migratedDatabase(server);
    const [one, two] = [await connect(database), await connect(database)];
    const outbox = new WebhookOutbox(one.db);
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        outbox.enqueue("credential.revoked", { sub: String(i), reason: "test" }),
      ),
    );
    dispatcher(one, `${hooks.url}/one`, { batchSize: 3, pollIntervalMs: 10 });
    dispatcher(two, `${hooks.url}/two`, { batchSize: 3, pollIntervalMs: 10 });
    await waitUntil(() => delivered(one), "40 deliveries");
    await new Promise((resolve) => setTimeout(resolve, 200));

    const received = hooks.requests.map((request) => verified(request as any).id);
    expect(received.toSorted()).toEqual(ids.toSorted());
    expect(hooks.requests.filter((request) => request.path === "/one").length).toBeGreaterThan(0);
    expect(hooks.requests.filter((request) => request.path === "/two").length).toBeGreaterThan(0);
    expect((await outboxRows(one.db)).every((row) => row.attempts === 1)).toBe(true);
  });

  it("gives up after the last attempt and keeps the row as dead; follows no redirect", async () => {
    const hooks = await receiver({
      answer: (request) =>
        request.path === "/hooks" ? { status: 307, location: "/elsewhere" } : 200,
    });
    const { logger, text } = capturedLogger();
    const database = await migratedDatabase(server);
    const db = await connect(database);
    await new WebhookOutbox(db.db).enqueue("credential.revoked", { sub: "9", reason: "x" });
    dispatcher(db, `${hooks.url}/hooks`, { logger, retry: { baseMs: 20, maxAttempts: 3 } });
    await waitUntil(async () => (await outboxRows(db.db))[0]?.dead_at != null, "a dead row");
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(hooks.requests.map((request) => request.path)).toEqual(["/hooks", "/hooks", "/hooks"]);
    expect((await outboxRows(db.db))[0]).toMatchObject({
      attempts: 3,
      delivered_at: null,
      next_attempt_at: null,
      last_error: "http_307",
    });
    expect(text()).toContain("webhook given up");
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain(hooks.url);
  });

  it("gives up on a receiver that does not answer within the timeout, and retries", async () => {
    const hooks = await receiver({ answer: (_request, index) => (index === 0 ? "hang" : 200) });
    const database = await migratedDatabase(server);
    const db = await connect(database);
    await new WebhookOutbox(db.db).enqueue("credential.revoked", { sub: "5", reason: "x" });
    dispatcher(db, hooks.url, { timeoutMs: 200, leaseMs: 1_000 });
    await waitUntil(() => delivered(db), "the delivery");
    expect(hooks.requests).toHaveLength(2);
    expect((await outboxRows(db.db))[0]).toMatchObject({ attempts: 2, last_error: "timeout" });
  });

  it("stop() aborts a POST under way, hands its row back, and leaves nothing running", async () => {
    const hooks = await receiver({ answer: (_request, index) => (index === 0 ? "hang" : 200) });
    const database = await migratedDatabase(server);
    const db = await connect(database);
    const outbox = new WebhookOutbox(db.db);
    await outbox.enqueue("credential.revoked", { sub: "6", reason: "x" });
    const first = dispatcher(db, hooks.url, { timeoutMs: 10_000, leaseMs: 60_000 });
    await waitUntil(() => hooks.requests.length === 1, "the first POST");
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    // Due again at once, the interrupted attempt not counted, no lease held.
    expect((await outboxRows(db.db))[0]).toMatchObject({
      attempts: 0,
      locked_until: null,
      delivered_at: null,
    });
    expect((await outboxRows(db.db))[0]?.next_attempt_at).toBeInstanceOf(Date);
    // Stopped means stopped: nothing more is sent.
    await outbox.enqueue("credential.revoked", { sub: "7", reason: "x" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.requests).toHaveLength(1);

    dispatcher(db, hooks.url);
    await waitUntil(() => delivered(db), "both deliveries");
    expect(hooks.requests.map((request) => verified(request as any).data.sub)).toEqual([
      "6",
      "6",
      "7",
    ]);
  });

  it("refuses bad options as programming mistakes", async () => {
    const database = await migratedDatabase(server);
    const db = await connect(database);
    const base = { db: db.db, url: "https://example.com/hooks", secret: SECRET };
    expect(() => new WebhookDispatcher({ ...base, url: "not a url" })).toThrow(TypeError);
    expect(() => new WebhookDispatcher({ ...base, secret: "short" })).toThrow(/32/);
    expect(() => new WebhookDispatcher({ ...base, timeoutMs: 5_000, leaseMs: 5_000 })).toThrow(
      /leaseMs/,
    );
    expect(() => new WebhookDispatcher({ ...base, batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe("WebhookOutbox", () => {
  it("lets another claimant take a row over once its lease lapses, and fences the old claim", async () => {
    const database = await migratedDatabase(server);
    const db = await connect(database);
    const outbox = new WebhookOutbox(db.db);
    await outbox.enqueue("credential.revoked", { sub: "8", reason: "x" });
    const [stale] = await outbox.claimDue(10, 150);
    expect(stale?.attempts).toBe(1);
    expect(await outbox.claimDue(10, 150)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const [taken] = await outbox.claimDue(10, 60_000);
    expect(taken).toMatchObject({ id: stale?.id, attempts: 2 });
    // The first claimant, late, cannot reschedule or release what it no longer holds.
    await outbox.scheduleRetry(stale as NonNullable<typeof stale>, 0, "late");
    await outbox.release(stale as NonNullable<typeof stale>);
    const [row] = await outboxRows(db.db);
    expect(row).toMatchObject({ attempts: 2, last_error: null });
    expect(row?.locked_until?.getTime()).toBeGreaterThan(Date.now() + 30_000);
  });

  it("prunes delivered rows past their keep time, never pending or dead ones", async () => {
    const database = await migratedDatabase(server);
    const db = await connect(database);
    const outbox = new WebhookOutbox(db.db);
    for (const sub of ["a", "b", "c"])
      await outbox.enqueue("credential.revoked", { sub, reason: "x" });
    const [a, b] = await outbox.claimDue(2, 60_000);
    await outbox.markDelivered(a as NonNullable<typeof a>);
    await outbox.markDead(b as NonNullable<typeof b>, "http_500");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await outbox.pruneDelivered(10, 100)).toBe(1);
    const left = await outboxRows(db.db);
    expect(left.map((row) => [row.payload.sub, row.dead_at !== null])).toEqual([
      ["b", true],
      ["c", false],
    ]);
  });
});
