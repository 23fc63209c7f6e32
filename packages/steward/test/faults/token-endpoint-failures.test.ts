// Fault: Google's token endpoint fails 30% of the requests it gets (503, as in an incident).
// Callers reading access tokens still get them, Steward's retries absorbing the failures, and
// each user's expired token is still refreshed exactly once however many callers want it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { control } from "../emulator/helpers.js";
import {
  refreshGrantsOf,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";
import { expectEveryCredentialWorks } from "./support/credentials.js";

const ADMIN_TOKEN = "admin-token-for-the-token-failures-test-012345";
const USERS = 8;
const CALLERS_PER_USER = 5;
const FAILING_SHARE = 0.3;

let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
}, 120_000);
afterAll(() => steward?.close());

const readToken = (sub: string) =>
  fetch(`${steward.url}/v1/users/${sub}/access-token`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  }).then(async (response) => ({ status: response.status, body: await response.json() }));

it("callers get tokens with 30% of token requests failing, one refresh per user per expiry", async () => {
  const users: string[] = [];
  for (let i = 0; i < USERS; i++) {
    // Access tokens living 1 s: each user's first read refreshes (and zeroes the counters).
    users.push(await signInThroughService(steward, `flaky-${i}@example.com`, { ttlSeconds: 1 }));
  }
  const google = steward.google;
  const programmed = await control(google, "POST", "/emulator/faults", {
    path: "/token",
    status: 503,
    share: FAILING_SHARE,
    times: 1_000_000,
  });
  expect(programmed.status).toBe(201);

  // One user's expiry at a time, each wanted by several callers at once. (The failures are
  // spread evenly, never two in a row: one refresh at a time, Steward's three attempts always
  // reach a good one. Refreshes racing each other could meet three failures running, which is
  // the retry budget's documented limit, not what this test is about.)
  const answers: Array<{ sub: string; status: number; token: unknown }> = [];
  for (const sub of users) {
    const reads = await Promise.all(Array.from({ length: CALLERS_PER_USER }, () => readToken(sub)));
    for (const read of reads)
      answers.push({ sub, status: read.status, token: read.body.accessToken });
  }
  await control(google, "DELETE", "/emulator/faults");

  expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
  // Every caller of one user got the one token that user's one refresh made.
  for (const sub of users) {
    expect(new Set(answers.filter((answer) => answer.sub === sub).map((a) => a.token)).size).toBe(
      1,
    );
    expect(await refreshGrantsOf(steward, sub)).toBe(1);
  }
  // The fault did fail its share of what reached the token endpoint.
  const stats = (await control(google, "GET", "/emulator/stats")).body;
  const requests = stats.requests["/token"] as number;
  expect(requests - stats.grants.refresh_token).toBe(Math.floor(requests * FAILING_SHARE));
  expect(requests - stats.grants.refresh_token).toBeGreaterThan(0);

  await expectEveryCredentialWorks(steward.service.vault, google, users);
}, 180_000);
