import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Emulator, startEmulator, writeClientSecretFile } from "@steward/emulator";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver, waitUntil } from "../events/support/receiver.js";

const VERIFICATION = "https://schemas.openid.net/secevent/risc/event-type/verification";
const STEWARD_EVENTS = [
  "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked",
  "https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked",
  "https://schemas.openid.net/secevent/oauth/event-type/token-revoked",
  "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
  "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
  "https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required",
  VERIFICATION,
];

let google: Emulator;
let receiver: Receiver;
let dir: string;
let keyFile: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  google = await startEmulator({ port: 0 });
  receiver = await startReceiver({ answer: () => 202 });
  dir = await mkdtemp(join(tmpdir(), "steward-risc-cli-"));
  const issued = await fetch(`${google.url}/emulator/service-accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  keyFile = join(dir, "service-account.json");
  await writeFile(keyFile, await issued.text(), { mode: 0o600 });
  env = {
    ...withoutSteward(process.env),
    STEWARD_GOOGLE: google.url,
    GOOGLE_CLIENT_ID: google.defaultClient.clientId,
    GOOGLE_CLIENT_SECRET: google.defaultClient.clientSecret as string,
    STEWARD_DATA_DIR: dir,
  };
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await google?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `steward ...` from source in a child process, as the other CLI tests do. */
function steward(args: string[], environment = env) {
  return promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", ...args],
    { env: environment, timeout: 60_000 },
  );
}

describe("steward risc", () => {
  it("register, status and verify configure the emulator's stream and deliver a verification SET", async () => {
    const url = `${receiver.url}/v1/risc`;
    const registered = await steward([
      "risc",
      "register",
      "--service-account-key",
      keyFile,
      "--url",
      url,
    ]);
    expect(registered.stdout).toContain(`RISC stream configured: events go to ${url}`);

    const status = (await steward(["risc", "status", "--service-account-key", keyFile])).stdout;
    expect(status).toContain("status: enabled");
    expect(status).toContain(`receiver: ${url}`);
    for (const type of STEWARD_EVENTS) expect(status).toContain(`  ${type}\n`);

    // The key from GOOGLE_APPLICATION_CREDENTIALS, as Google's own tools take it.
    const verified = await steward(["risc", "verify"], {
      ...env,
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    });
    const state = /state ([0-9a-f]{32})/.exec(verified.stdout)?.[1];
    expect(state).toBeDefined();
    await waitUntil(() => receiver.requests.length === 1, "the verification SET");
    const request = receiver.requests[0] as (typeof receiver.requests)[0];
    expect(request.path).toBe("/v1/risc");
    expect(request.headers["content-type"]).toBe("application/secevent+jwt");
    const discovery = await (await fetch(`${google.url}/.well-known/risc-configuration`)).json();
    const { payload } = await jwtVerify(
      request.body,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      {
        issuer: discovery.issuer,
        audience: google.defaultClient.clientId,
      },
    );
    expect(payload.events).toEqual({ [VERIFICATION]: { state } });
  }, 120_000);

  it("finds the emulator of a running service in emulator mode, through its client file", async () => {
    const serviceDir = await mkdtemp(join(tmpdir(), "steward-risc-svc-"));
    try {
      await writeClientSecretFile(
        join(serviceDir, "client_secret_emulator.json"),
        google.url,
        google.defaultClient,
      );
      const { stdout } = await steward(["risc", "status", "--service-account-key", keyFile], {
        ...withoutSteward(process.env),
        STEWARD_DATA_DIR: serviceDir,
      });
      expect(stdout).toContain("status: enabled");
    } finally {
      await rm(serviceDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("reports the RISC API's refusal of a non-HTTPS receiver and a malformed key file, echoing no key", async () => {
    await expect(
      steward([
        "risc",
        "register",
        "--service-account-key",
        keyFile,
        "--url",
        "http://steward.example.com/v1/risc",
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("The RISC API answered 403"),
    });
    const status = (await steward(["risc", "status", "--service-account-key", keyFile])).stdout;
    expect(status).toContain(`receiver: ${receiver.url}/v1/risc`);

    const broken = join(dir, "broken.json");
    await writeFile(broken, JSON.stringify({ type: "service_account", private_key: "secret-ish" }));
    const failure = await steward(["risc", "status", "--service-account-key", broken]).catch(
      (error: { stderr: string }) => error,
    );
    expect(failure.stderr).toContain("client_email must be a non-empty string");
    expect(failure.stderr).toContain("private_key must be a PEM PKCS#8 private key");
    expect(failure.stderr).not.toContain("secret-ish");

    const none = await steward(["risc", "status"]).catch((error: { stderr: string }) => error);
    expect(none.stderr).toContain("--service-account-key");
  }, 120_000);
});

function withoutSteward(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(source).filter(
      ([name]) =>
        !name.startsWith("STEWARD_") && !name.startsWith("GOOGLE_") && name !== "DATABASE_URL",
    ),
  );
}
