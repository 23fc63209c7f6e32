import type { TestContext } from "vitest";
import { ApiKeys } from "../../../src/api-keys/index.js";
import { control } from "../../emulator/helpers.js";
import {
  refreshGrantsOf,
  signInThroughService,
  startTestService,
  type TestService,
} from "../helpers.js";

export const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
export const ADMIN_TOKEN = "admin-token-for-oauth2-tests-0123456789";

/** A running Steward (with its emulator) and an API key holding `tokens:read`. */
export interface ClientFixture {
  steward: TestService;
  key: string;
  keyId: string;
  tokenUrl: string;
}

export async function startForClients(): Promise<ClientFixture> {
  const steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  const { key, info } = await new ApiKeys(steward.service.vault.database.db).create("backend", [
    "tokens:read",
  ]);
  return { steward, key, keyId: info.id, tokenUrl: `${steward.url}/oauth2/token` };
}

/**
 * A signed-in user whose stored access token has 30 s left: less than the minute Steward
 * promises, so the next handout refreshes. The emulator's counters start at zero.
 */
export function expiredUser(steward: TestService, email: string): Promise<string> {
  return signInThroughService(steward, email, { ttlSeconds: 30, scopes: [APPDATA] });
}

/** Google's token endpoint answers the next refresh after `ms`: concurrent callers overlap. */
export async function slowNextRefresh(steward: TestService, ms = 400): Promise<void> {
  await control(steward.google, "POST", "/emulator/faults", {
    path: "/token",
    latencyMs: ms,
    times: 1,
  });
}

/** Revokes the user's grant through Steward's admin API (the cached token is dropped too). */
export async function revokeUser(steward: TestService, sub: string): Promise<void> {
  const response = await fetch(`${steward.url}/v1/users/${sub}/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (response.status !== 200) throw new Error(`revoke answered ${response.status}`);
}

export { refreshGrantsOf };

/**
 * A language's toolchain or client library is missing: CI installs it (`.ci/run`), so there
 * this fails; elsewhere the test is skipped, naming the Debian packages to install.
 */
export function requireToolchain(ctx: TestContext, found: boolean, packages: string): void {
  if (found) return;
  const message = `missing toolchain: apt-get install ${packages}`;
  if (process.env.CI) throw new Error(message);
  ctx.skip(message);
}

/** The child's environment without proxies, so loopback requests stay on loopback. */
export function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return { ...env, NO_PROXY: "*", ...extra };
}
