// The real service in its own process, as `steward serve` runs it with its embedded defaults
// (embedded PostgreSQL in a fresh data dir, the in-process emulator, pino at
// BENCH_STEWARD_LOG_LEVEL, default "info" like `steward serve`, written to /dev/null), with
// STEWARD_ADMIN_TOKEN from the environment. With BENCH_GOOGLE_URL, BENCH_GOOGLE_CLIENT_ID and
// BENCH_GOOGLE_CLIENT_SECRET it talks to that emulator (another process) instead, as
// `STEWARD_GOOGLE=<url>` does; BENCH_RATE_LIMIT_PER_MINUTE raises the per-address limit of the
// sign-in route for load from one address. Signs one user in through the real HTTP route
// (`POST /v1/auth/google/code`), warms the user's access token, then probes
// `GET /v1/users/{sub}/access-token` once. Prints `{"url", "sub", "probe": {status, body}}` on one
// line; SIGTERM stops the service and removes the data dir.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../../packages/steward/src/config/load.js";
import { REDACTED_PATHS } from "../../packages/steward/src/server/logger.js";
import { startService } from "../../packages/steward/src/server/service.js";

const adminToken = process.env.STEWARD_ADMIN_TOKEN;
if (!adminToken) throw new Error("STEWARD_ADMIN_TOKEN is required");
const dataDir = await mkdtemp(join(tmpdir(), "steward-bench-service-"));
const logger = pino(
  {
    level: process.env.BENCH_STEWARD_LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  },
  pino.destination({ dest: "/dev/null", sync: true }),
);
const google = process.env.BENCH_GOOGLE_URL;
const config = loadConfig({
  STEWARD_DATA_DIR: dataDir,
  STEWARD_PORT: "0",
  STEWARD_ADMIN_TOKEN: adminToken,
  ...(google && {
    STEWARD_GOOGLE: google,
    GOOGLE_CLIENT_ID: process.env.BENCH_GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET: process.env.BENCH_GOOGLE_CLIENT_SECRET,
  }),
});
const rateLimit = process.env.BENCH_RATE_LIMIT_PER_MINUTE;
const service = await startService(config, {
  logger,
  emulatorPort: 0,
  ...(rateLimit && { rateLimitPerMinute: Number(rateLimit) }),
});
const stop = async () => {
  await service.close().catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
};
process.once("SIGTERM", () => {
  void stop().finally(() => process.exit(0));
});

try {
  const emulatorUrl = google ?? service.emulator?.url;
  if (emulatorUrl === undefined) throw new Error("the service runs without its emulator");
  const signIn = await postJson(`${emulatorUrl}/emulator/sign-in`, {
    clientId: service.client.clientId,
    email: "bench-route@example.com",
  });
  const { serverAuthCode, sub } = signIn.body as { serverAuthCode: string; sub: string };
  const stored = await postJson(
    `${service.url}/v1/auth/google/code`,
    { code: serverAuthCode },
    { "x-requested-with": "XMLHttpRequest" },
  );
  if (stored.status !== 200) throw new Error(`sign-in answered ${stored.status}: ${stored.text}`);
  await service.tokens.accessToken(sub);
  const probe = await fetch(`${service.url}/v1/users/${sub}/access-token`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const body = await probe.text();
  process.stdout.write(
    `${JSON.stringify({ url: service.url, sub, probe: { status: probe.status, body } })}\n`,
  );
} catch (error) {
  await stop();
  throw error;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, text, body: parsed };
}
