import type { EmulatorState } from "@steward/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { startTestService, type TestService } from "../server/helpers.js";
import { ADMIN_TOKEN, createKeys, everyRowAsText, spellings } from "./support.js";

/**
 * One full flow through the service (sign-ins, a refresh of an expired token, the access-token
 * route, the proxy, tokeninfo, a job, every admin route, /v1/me, revocation, deletion), every
 * answer kept; then what the answers and the database hold is searched for every secret the
 * emulator issued.
 */
const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let steward: TestService;
let issued: Issued;
const answers: Array<{ what: string; text: string }> = [];
const idTokens: string[] = [];

interface Issued {
  codes: string[];
  accessTokens: string[];
  refreshTokens: string[];
}

/** Notes every code, access token and refresh token the emulator hands out from now on. */
function recordIssued(state: EmulatorState): Issued {
  const seen: Issued = { codes: [], accessTokens: [], refreshTokens: [] };
  const mintCode = state.mintCode.bind(state);
  state.mintCode = (input) => {
    const minted = mintCode(input);
    seen.codes.push(minted.code);
    return minted;
  };
  const issueAccessToken = state.issueAccessToken.bind(state);
  state.issueAccessToken = (...args) => {
    const token = issueAccessToken(...args);
    seen.accessTokens.push(token.accessToken);
    return token;
  };
  const issueRefreshToken = state.issueRefreshToken.bind(state);
  state.issueRefreshToken = (...args) => {
    const token = issueRefreshToken(...args);
    seen.refreshTokens.push(token);
    return token;
  };
  return seen;
}

/** Calls the service and keeps the whole answer: status, every header, the body. */
async function call(path: string, bearer?: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${steward.url}${path}`, {
    ...init,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
  const body = await response.clone().text();
  let headers = "";
  response.headers.forEach((value, name) => {
    headers += `${name}: ${value}\n`;
  });
  answers.push({ what: `${init.method ?? "GET"} ${path}`, text: `${headers}\n${body}` });
  return response;
}

async function signIn(email: string, prompt?: string): Promise<string> {
  const signedIn = await sdkSignIn(steward.google, {
    email,
    scopes: [APPDATA],
    ...(prompt ? { prompt } : {}),
  });
  idTokens.push(signedIn.idToken);
  const response = await call("/v1/auth/google/code", undefined, {
    method: "POST",
    headers: { "x-requested-with": "XMLHttpRequest", "content-type": "application/json" },
    body: JSON.stringify({ code: signedIn.serverAuthCode }),
  });
  expect(response.status, email).toBe(200);
  return signedIn.sub;
}

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  issued = recordIssued(steward.google.state);
  const keys = await createKeys(steward);
  const { google } = steward;

  // Ada signs in while Google's access tokens live 1 s: her next token is a refresh.
  await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1 });
  const ada = await signIn("ada@example.com");
  await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
  const token = await call(`/v1/users/${ada}/access-token`, keys.tokens);
  expect(token.status).toBe(200);
  const { accessToken } = await token.json();
  const { grantsBySub } = (await control(google, "GET", "/emulator/stats")).body;
  expect(grantsBySub[ada].refresh_token).toBeGreaterThanOrEqual(1);

  // Bob signs in twice, the second time with consent again: a second refresh token.
  const bob = await signIn("bob@example.com");
  await signIn("bob@example.com", "consent");
  const carol = await signIn("carol@example.com");
  await signIn("dave@example.com");

  // The proxy, as Ada: an API, tokeninfo (the token in the query) and userinfo.
  for (const path of [
    "drive/v3/files?spaces=appDataFolder",
    `oauth2/v3/tokeninfo?access_token=${accessToken}`,
    "oauth2/v3/userinfo",
  ]) {
    expect((await call(`/v1/users/${ada}/google/${path}`, keys.proxy)).status, path).toBe(200);
  }

  // A job that calls Google as Ada.
  const { jobs } = steward.service;
  await jobs.define("security.list-files", async ({ google: access }) => {
    const files = await access.fetch("https://www.googleapis.com/drive/v3/files");
    return { status: files.status };
  });
  const jobId = await jobs.enqueue("security.list-files", ada, {});
  await waitUntil(
    async () => (await jobs.status(jobId))?.state === "completed",
    "the job to complete",
    20_000,
  );

  // The user's own view, and every admin route.
  const adaIdToken = idTokens[0] as string;
  expect((await call("/v1/me", adaIdToken)).status).toBe(200);
  for (const path of [
    "/v1/users",
    `/v1/users/${ada}`,
    `/v1/users/${bob}`,
    "/v1/audit-events",
    `/v1/audit-events?sub=${ada}`,
    "/v1/jobs",
    `/v1/jobs?sub=${ada}`,
  ]) {
    expect((await call(path, ADMIN_TOKEN)).status, path).toBe(200);
  }
  expect((await call(`/v1/users/${bob}/revoke`, keys.admin, { method: "POST" })).status).toBe(200);
  expect((await call(`/v1/users/${carol}`, ADMIN_TOKEN, { method: "DELETE" })).status).toBe(200);
  const daveIdToken = idTokens[4] as string;
  const disconnected = await call("/v1/me/connection", daveIdToken, {
    method: "DELETE",
    headers: { "x-requested-with": "XMLHttpRequest" },
  });
  expect(disconnected.status).toBeLessThan(300);
  expect((await call(`/v1/users/${bob}/access-token`, keys.tokens)).status).toBe(409);
  // What operators and browsers load.
  for (const path of ["/metrics", "/healthz", "/readyz", "/admin", "/docs/json"]) {
    expect((await call(path)).status, path).toBe(200);
  }
  expect(answers.length).toBeGreaterThan(25);
}, 120_000);
afterAll(() => steward?.close());

/** Every refresh token the emulator knows of, for every user, live or revoked. */
function emulatorRefreshTokens(state: EmulatorState): string[] {
  return [...state.users.keys()].flatMap((sub) =>
    state.grantsOf(sub).flatMap((grant) => grant.refreshTokens.map((entry) => entry.token)),
  );
}

describe("secrets after a full flow", () => {
  it("no response body or header ever holds a refresh token", async () => {
    const refreshTokens = new Set([
      ...emulatorRefreshTokens(steward.google.state),
      ...issued.refreshTokens,
    ]);
    // Five consents with offline access, and the proof that the search would find them.
    expect(refreshTokens.size).toBeGreaterThanOrEqual(5);
    const [ada] = steward.google.state.users.keys();
    const atGoogle = JSON.stringify(
      (await control(steward.google, "GET", `/emulator/users/${ada}/grants`)).body,
    );
    expect([...refreshTokens].some((token) => atGoogle.includes(token))).toBe(true);
    for (const { what, text } of answers) {
      for (const token of refreshTokens) expect(text.includes(token), what).toBe(false);
      // Google's refresh-token shape, whoever issued it.
      expect(text, what).not.toMatch(/1\/\/0[A-Za-z0-9_-]{20,}/);
    }
  });

  it("a database dump holds no plaintext access token, refresh token, ID token, code or client secret", async () => {
    const { tables, text: dump } = await everyRowAsText(steward.service.vault.database.db);
    // Steward's tables and pg-boss's: the dump reads them (plaintext columns are found).
    expect(tables).toEqual(
      expect.arrayContaining(["public.users", "public.credentials", "public.audit_events"]),
    );
    expect(tables.some((table) => table.startsWith("pgboss."))).toBe(true);
    expect(dump).toContain("ada@example.com");
    expect(dump).toContain("security.list-files");

    const { client } = steward.service;
    const secrets = [
      ...issued.codes,
      ...issued.accessTokens,
      ...issued.refreshTokens,
      ...emulatorRefreshTokens(steward.google.state),
      ...idTokens,
      client.clientSecret as string,
    ];
    expect(issued.codes.length).toBeGreaterThanOrEqual(5);
    expect(issued.accessTokens.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      for (const spelling of spellings(secret)) expect(dump.includes(spelling)).toBe(false);
    }
    // Shapes of Google's secrets, whichever was issued: codes, tokens, JWTs, client secrets.
    for (const shape of [
      /4\/0[A-Za-z0-9_-]{20,}/,
      /ya29\.[A-Za-z0-9_-]{20,}/,
      /1\/\/0[A-Za-z0-9_-]{20,}/,
      /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/,
      /GOCSPX-/,
    ]) {
      expect(dump).not.toMatch(shape);
    }
  });
});
