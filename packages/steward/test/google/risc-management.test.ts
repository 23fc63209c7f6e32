import { createPublicKey } from "node:crypto";
import { type Emulator, startEmulator } from "@steward/emulator";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStewardError } from "../../src/errors.js";
import { emulatorEndpoints, GOOGLE_ENDPOINTS } from "../../src/google/endpoints.js";
import { riscManagement } from "../../src/google/risc-management.js";
import { SECURITY_EVENT_TYPES } from "../../src/google/security-event.js";
import {
  parseServiceAccountKey,
  RISC_MANAGEMENT_AUDIENCE,
  riscManagementJwt,
  type ServiceAccountKey,
} from "../../src/google/service-account-key.js";
import { control } from "../emulator/helpers.js";

let google: Emulator;
let key: ServiceAccountKey;

beforeAll(async () => {
  google = await startEmulator({ port: 0 });
  const issued = await control(google, "POST", "/emulator/service-accounts", {});
  const parsed = parseServiceAccountKey(JSON.stringify(issued.body));
  if ("problems" in parsed) throw new Error(parsed.problems.join("; "));
  key = parsed.key;
});
afterAll(() => google?.close());

describe("service account keys", () => {
  it("signs the management JWT Google asks for: RS256, kid, iss = sub = email, its aud, one hour", async () => {
    const token = await riscManagementJwt(key, 1_700_000_000_000);
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "RS256",
      kid: key.privateKeyId,
      typ: "JWT",
    });
    const { payload } = await jwtVerify(token, createPublicKey(key.privateKey), {
      currentDate: new Date(1_700_000_000_000),
    });
    expect(payload).toEqual({
      iss: key.clientEmail,
      sub: key.clientEmail,
      aud: RISC_MANAGEMENT_AUDIENCE,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
  });

  it("names every problem of a key file by field, never by value", () => {
    expect(parseServiceAccountKey("{")).toEqual({ problems: ["is not valid JSON"] });
    const parsed = parseServiceAccountKey(
      JSON.stringify({ type: "authorized_user", private_key: "hunter2", client_email: "" }),
    );
    expect(parsed).toEqual({
      problems: [
        'type must be "service_account"',
        "client_email must be a non-empty string",
        "private_key_id must be a non-empty string",
        "private_key must be a PEM PKCS#8 private key",
      ],
    });
  });
});

describe("riscManagement", () => {
  it("takes Google's RISC API base from the endpoints: Google's host, or the emulator", () => {
    expect(GOOGLE_ENDPOINTS.riscApiUrl).toBe("https://risc.googleapis.com");
    expect(emulatorEndpoints(`${google.url}/`).riscApiUrl).toBe(google.url);
  });

  it("configures and reads the stream; Google's refusals are upstream_rejected with its message", async () => {
    const risc = riscManagement({ apiUrl: google.url, key });
    const before = await risc.getStream().catch((error: unknown) => error);
    expect(isStewardError(before, "upstream_rejected")).toBe(true);
    expect((before as Error).message).toContain("404");
    expect((before as Error).message).toContain("Project has no RISC configuration.");

    const config = {
      receiverUrl: "https://steward.example.com/v1/risc",
      eventsRequested: Object.values(SECURITY_EVENT_TYPES),
    };
    expect(await risc.updateStream(config)).toEqual(config);
    expect(await risc.getStream()).toEqual(config);
    expect(await risc.updateStatus("disabled")).toBe("disabled");
    expect(await risc.getStatus()).toBe("disabled");
    expect(await risc.updateStatus("enabled")).toBe("enabled");
  });

  it("is upstream_unavailable when the API answers 5xx or cannot be reached", async () => {
    await control(google, "POST", "/emulator/faults", {
      path: "/v1beta/stream/status",
      status: 503,
    });
    const risc = riscManagement({ apiUrl: google.url, key });
    const failed = await risc.getStatus().catch((error: unknown) => error);
    expect(isStewardError(failed, "upstream_unavailable")).toBe(true);

    const closed = await startEmulator({ port: 0 });
    await closed.close();
    const unreachable = await riscManagement({ apiUrl: closed.url, key })
      .getStatus()
      .catch((error: unknown) => error);
    expect(isStewardError(unreachable, "upstream_unavailable")).toBe(true);
    expect((unreachable as Error).message).not.toContain(key.privateKey.slice(40, 80));
  });
});
