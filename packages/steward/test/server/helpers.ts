import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Emulator } from "@steward/emulator";
import pino from "pino";
import { loadConfig } from "../../src/config/load.js";
import type { StewardApp } from "../../src/server/apps.js";
import { REDACTED_PATHS } from "../../src/server/logger.js";
import { type RunningService, startService } from "../../src/server/service.js";
import { control, sdkSignIn } from "../emulator/helpers.js";

export interface TestService {
  service: RunningService;
  url: string;
  dataDir: string;
  google: Emulator;
  /** Everything the service logged, as written. */
  logs: () => string;
  close(): Promise<void>;
}

/**
 * Starts the real service as `npm start` does (embedded PostgreSQL in a fresh data dir, an
 * in-process emulator), on free loopback ports, logging at debug level into memory.
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: { rateLimitPerMinute?: number; apps?: readonly StewardApp[] } = {},
): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), "steward-service-"));
  let written = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      written += chunk.toString();
      done();
    },
  });
  const logger = pino(
    { level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } },
    sink,
  );
  const config = loadConfig({ STEWARD_DATA_DIR: dataDir, STEWARD_PORT: "0", ...env });
  const service = await startService(config, {
    logger,
    emulatorPort: 0,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    googleTimeoutSeconds: 2,
    apps: options.apps,
  });
  return {
    service,
    url: service.url,
    dataDir,
    google: service.emulator as Emulator,
    logs: () => written,
    close: async () => {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs a code the way an app does; `body` may be JSON (object), a form or raw text. */
export async function postCode(
  url: string,
  body: unknown,
  options: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const contentType = options.contentType ?? "application/json";
  const response = await fetch(`${url}/v1/auth/google/code`, {
    method: "POST",
    headers: {
      "x-requested-with": "XMLHttpRequest",
      "content-type": contentType,
      ...options.headers,
    },
    body:
      typeof body === "string" || body instanceof Uint8Array
        ? (body as string)
        : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * The environment of a second Steward instance sharing this service's PostgreSQL, keyring and
 * (now external) emulator, as another process or a library user would configure it.
 */
export async function sharedEnvironment(steward: TestService): Promise<Record<string, string>> {
  const database = steward.service.vault.database.embedded?.connection();
  if (!database) throw new Error("the test service runs the embedded PostgreSQL");
  return {
    DATABASE_URL: `postgres://${database.user}:${encodeURIComponent(database.password)}@${database.host}:${database.port}/${database.database}`,
    STEWARD_KEYS: (await readFile(join(steward.dataDir, "generated-key"), "utf8")).trim(),
    STEWARD_GOOGLE: steward.google.url,
    GOOGLE_CLIENT_ID: steward.service.client.clientId,
    GOOGLE_CLIENT_SECRET: steward.service.client.clientSecret,
  };
}

/**
 * Signs a user in through the service as an app does, while the emulator issues access tokens
 * living `ttlSeconds`; then restores the emulator's usual lifetime and zeroes its counters, so
 * a test sees only the refreshes that follow.
 */
export async function signInThroughService(
  steward: TestService,
  email: string,
  options: { ttlSeconds?: number; scopes?: string[] } = {},
): Promise<string> {
  const { google } = steward;
  await control(google, "PUT", "/emulator/settings", {
    accessTokenTtlSeconds: options.ttlSeconds ?? 3599,
  });
  const { serverAuthCode, sub } = await sdkSignIn(google, { email, scopes: options.scopes ?? [] });
  const { status } = await postCode(steward.url, { code: serverAuthCode });
  if (status !== 200) throw new Error(`sign-in through the service answered ${status}`);
  await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
  await control(google, "DELETE", "/emulator/stats");
  return sub;
}

/** How many refresh grants the emulator made for `sub` since its counters were zeroed. */
export async function refreshGrantsOf(steward: TestService, sub: string): Promise<number> {
  return (
    (await control(steward.google, "GET", "/emulator/stats")).body.grantsBySub[sub]
      ?.refresh_token ?? 0
  );
}
