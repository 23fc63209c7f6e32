import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEmulator, writeClientSecretFile } from "@steward/emulator";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";

/**
 * The emulator's RISC side and Steward's receiver, together, as `npm start` runs them: the
 * in-process emulator signs each SET with its own key and pushes it to Steward's `/v1/risc`,
 * and Steward verifies it against the emulator's discovery document.
 */

const ADMIN_TOKEN = "admin-token-for-risc-from-emulator-0123456789";

let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);
afterAll(() => steward?.close());

interface Delivery {
  id: string;
  jti: string;
  eventType: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
}

const receiverUrl = () => `${steward.url}/v1/risc`;

async function admin(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${steward.url}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: response.status, body: await response.json() };
}

async function accessTokenStatus(sub: string): Promise<{ status: number; code?: string }> {
  const { status, body } = await admin(`/v1/users/${sub}/access-token`);
  return { status, code: body?.error?.code };
}

async function auditTypesOf(sub: string): Promise<string[]> {
  const { body } = await admin(`/v1/audit-events?sub=${sub}`);
  return body.events.map((event: { type: string }) => event.type);
}

/** Waits until the emulator is done with a delivery: delivered, or given up. */
async function settled(id: string): Promise<Delivery> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await control(
      steward.google,
      "GET",
      `/emulator/risc/deliveries/${id}`,
    );
    expect(status).toBe(200);
    if (body.status !== "pending" || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Asks the emulator to push an event to Steward, as Google would; returns its settled deliveries. */
async function push(type: string, fields: Record<string, unknown>): Promise<Delivery[]> {
  const { status, body } = await control(steward.google, "POST", "/emulator/risc/events", {
    type,
    receiverUrl: receiverUrl(),
    ...fields,
  });
  expect(status, JSON.stringify(body)).toBe(202);
  const deliveries: Delivery[] = [];
  for (const { id } of body.deliveries) deliveries.push(await settled(id));
  return deliveries;
}

/** One delivery, done on the first attempt with Steward's 202. */
function expectAccepted(deliveries: Delivery[]): Delivery {
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0]).toMatchObject({ status: "delivered", lastStatus: 202, attempts: 1 });
  return deliveries[0] as Delivery;
}

async function counts(): Promise<{ audit: number; risc: number }> {
  const { rows } = await sql<{ audit: number; risc: number }>`
    SELECT (SELECT count(*)::int FROM audit_events) AS audit,
           (SELECT count(*)::int FROM risc_events) AS risc`.execute(
    steward.service.vault.database.db,
  );
  return rows[0] as { audit: number; risc: number };
}

describe("RISC events pushed by the emulator to Steward's receiver", () => {
  it("token-revoked by prefix, pushed by the emulator, revokes the credential: access-token answers 409 credential_revoked", async () => {
    const sub = await signInThroughService(steward, "emu-risc-prefix@example.com");
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });

    expectAccepted(await push("token-revoked", { sub, tokenIdentifierAlg: "prefix" }));

    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    expect(await auditTypesOf(sub)).toEqual(
      expect.arrayContaining(["risc.token_revoked", "credential.revoked"]),
    );
  });

  it("token-revoked by the double SHA-512 hash, pushed by the emulator, revokes the credential", async () => {
    const sub = await signInThroughService(steward, "emu-risc-hash@example.com");
    const bystander = await signInThroughService(steward, "emu-risc-hash-other@example.com");

    expectAccepted(
      await push("token-revoked", { sub, tokenIdentifierAlg: "hash_base64_sha512_sha512" }),
    );

    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    expect(await accessTokenStatus(bystander)).toMatchObject({ status: 200 });
  });

  it("tokens-revoked, pushed by the emulator as its full event-type URI, revokes the user's credential", async () => {
    const sub = await signInThroughService(steward, "emu-risc-tokens@example.com");

    expectAccepted(
      await push("https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked", { sub }),
    );

    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    expect(await auditTypesOf(sub)).toEqual(
      expect.arrayContaining(["risc.tokens_revoked", "credential.revoked"]),
    );
  });

  it("account-disabled for hijacking, pushed by the emulator, revokes the credential and flags the user", async () => {
    const sub = await signInThroughService(steward, "emu-risc-hijacked@example.com");

    expectAccepted(await push("account-disabled", { sub, reason: "hijacking" }));

    expect(await accessTokenStatus(sub)).toEqual({ status: 409, code: "credential_revoked" });
    const { body } = await admin(`/v1/users/${sub}`);
    expect(body.accountDisabled).toEqual({ at: expect.any(String), reason: "hijacking" });
    expect(body.credential).toMatchObject({
      status: "revoked",
      revokedReason: "risc_account_hijacked",
    });
  });

  it("sessions-revoked, pushed by the emulator, is announced to the app and keeps the credential", async () => {
    const sub = await signInThroughService(steward, "emu-risc-sessions@example.com");
    const heard: string[] = [];
    const stop = steward.service.events.on("risc.sessions_revoked", (event) =>
      heard.push(event.sub),
    );

    try {
      expectAccepted(await push("sessions-revoked", { sub }));
    } finally {
      stop();
    }

    expect(heard).toEqual([sub]);
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
    expect(await auditTypesOf(sub)).toContain("risc.sessions_revoked");
  });

  it("account-enabled and account-credential-change-required, pushed by the emulator, are recorded in the audit log", async () => {
    const sub = await signInThroughService(steward, "emu-risc-enabled@example.com");

    expectAccepted(await push("account-credential-change-required", { sub }));
    expectAccepted(await push("account-enabled", { sub }));

    expect(await auditTypesOf(sub)).toEqual(
      expect.arrayContaining(["risc.credential_change_required", "risc.account_enabled"]),
    );
    expect(await accessTokenStatus(sub)).toMatchObject({ status: 200 });
  });

  it("verification, pushed by the emulator, is logged with its state and recorded in the audit log", async () => {
    const state = "emu-risc-verify-state-7";

    const delivery = expectAccepted(await push("verification", { state }));

    const { body } = await admin("/v1/audit-events?limit=50");
    expect(body.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: "risc.verification",
          data: { jti: delivery.jti, state },
        }),
      ]),
    );
    expect(steward.logs()).toContain(state);
  });

  it("a redelivery of the same SET (same jti) is acknowledged with 202 and nothing is done again", async () => {
    const sub = await signInThroughService(steward, "emu-risc-redelivered@example.com");
    const first = expectAccepted(await push("sessions-revoked", { sub }));
    const before = await counts();
    const heard: string[] = [];
    const stop = steward.service.events.on("risc.sessions_revoked", (event) =>
      heard.push(event.sub),
    );

    const { status, body } = await control(
      steward.google,
      "POST",
      `/emulator/risc/deliveries/${first.id}/redeliver`,
    );
    expect(status).toBe(202);
    const again = await settled(body.id);
    stop();

    expect(again).toMatchObject({
      jti: first.jti,
      status: "delivered",
      lastStatus: 202,
      attempts: 1,
    });
    expect(await counts()).toEqual(before);
    expect(heard).toEqual([]);
  });
});

describe("RISC events pushed by another emulator, signing with a key Steward's Google does not publish", () => {
  it("a SET from another emulator (same issuer and audience, its own key) is refused with 400 and changes nothing", async () => {
    const foreign = await startEmulator({
      port: 0,
      defaultClient: { clientId: steward.google.defaultClient.clientId },
    });
    try {
      // One attempt: a refusal is final, no redelivery to wait for.
      await control(foreign, "PUT", "/emulator/settings", { riscMaxAttempts: 1 });
      const before = await counts();
      const state = "emu-risc-foreign-state-9";

      const pushed = await control(foreign, "POST", "/emulator/risc/events", {
        type: "verification",
        state,
        receiverUrl: receiverUrl(),
      });
      expect(pushed.status).toBe(202);
      const { id, set } = pushed.body.deliveries[0];
      const deadline = Date.now() + 10_000;
      let delivery = (await control(foreign, "GET", `/emulator/risc/deliveries/${id}`)).body;
      while (delivery.status === "pending" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        delivery = (await control(foreign, "GET", `/emulator/risc/deliveries/${id}`)).body;
      }

      const claims = JSON.parse(Buffer.from(set.split(".")[1], "base64url").toString());
      expect(claims).toMatchObject({
        iss: "https://accounts.google.com/",
        aud: steward.google.defaultClient.clientId,
      });
      expect(delivery).toMatchObject({ status: "failed", lastStatus: 400, attempts: 1 });
      expect(await counts()).toEqual(before);
      expect(steward.logs()).not.toContain(state);
    } finally {
      await foreign.close();
    }
  });
});

describe("RISC stream registered with the CLI against the running service's emulator", () => {
  it("steward risc register pointed at Steward's /v1/risc, then steward risc verify, lands a verification in Steward's audit log", async () => {
    const issued = await control(steward.google, "POST", "/emulator/service-accounts", {});
    expect(issued.status).toBe(201);
    const keyFile = join(steward.dataDir, "risc-service-account.json");
    await writeFile(keyFile, JSON.stringify(issued.body), { mode: 0o600 });
    // The CLI finds the running service's emulator through the client file `steward start`
    // writes into its data dir.
    await writeClientSecretFile(
      join(steward.dataDir, "client_secret_emulator.json"),
      steward.google.url,
      steward.google.defaultClient,
    );
    const env = { ...withoutSteward(process.env), STEWARD_DATA_DIR: steward.dataDir };
    const key = ["--service-account-key", keyFile];

    const registered = await stewardCli(["risc", "register", ...key, "--url", receiverUrl()], env);
    expect(registered.stdout).toContain(`RISC stream configured: events go to ${receiverUrl()}`);
    const verified = await stewardCli(["risc", "verify", ...key], env);
    const state = /state ([0-9a-f]{32})/.exec(verified.stdout)?.[1] as string;
    expect(state).toMatch(/^[0-9a-f]{32}$/);

    const verification = async () => {
      const { body } = await admin("/v1/audit-events?limit=50");
      return body.events.find(
        (event: { type: string; data: { state?: string } }) =>
          event.type === "risc.verification" && event.data.state === state,
      );
    };
    let found: unknown;
    await waitUntil(async () => {
      found = await verification();
      return found !== undefined;
    }, "the verification in Steward's audit log");
    expect(found).toMatchObject({ actor: "google_risc", data: { state } });
    const { body } = await control(steward.google, "GET", "/emulator/risc/deliveries");
    expect(
      body.deliveries.filter(
        (delivery: Delivery & { receiverUrl: string }) =>
          delivery.receiverUrl === receiverUrl() && delivery.status !== "delivered",
      ),
    ).toEqual([]);
  }, 120_000);
});

/** Runs `steward ...` from source in a child process, as test/cli/risc.test.ts does. */
function stewardCli(args: string[], env: NodeJS.ProcessEnv) {
  return promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", ...args],
    { env, timeout: 60_000 },
  );
}

function withoutSteward(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(source).filter(
      ([name]) =>
        !name.startsWith("STEWARD_") && !name.startsWith("GOOGLE_") && name !== "DATABASE_URL",
    ),
  );
}
