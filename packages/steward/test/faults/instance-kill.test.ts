// Fault: two Steward instances on one PostgreSQL under load, and one of them is killed with
// SIGKILL (no shutdown, its connections and locks cut mid-request). The other goes on serving
// sign-ins and token reads without an error, before and after the kill, and every credential
// either of them stored is intact.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { killRunningClis } from "../cli/support/cli-process.js";
import { type StewardProcess, startStewardProcess } from "../security/support/steward-process.js";
import {
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";
import { removeDataDir } from "../vault/support/databases.js";
import { expectEveryCredentialWorks } from "./support/credentials.js";
import { failuresOf, startLoad, until } from "./support/load.js";

const ADMIN_TOKEN = "admin-token-for-the-instance-kill-test-0123456";

let survivor: TestService;
let victim: StewardProcess;
let victimDir: string;

beforeAll(async () => {
  survivor = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  victimDir = await mkdtemp(join(tmpdir(), "steward-instance-kill-"));
  const env: Record<string, string> = {
    ...(await sharedEnvironment(survivor)),
    STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  victim = await startStewardProcess({
    dataDir: victimDir,
    google: survivor.google,
    keyLine: env.STEWARD_KEYS as string,
    env,
  });
}, 180_000);
afterAll(async () => {
  killRunningClis();
  await survivor?.close();
  if (victimDir !== undefined) await removeDataDir(victimDir);
});

const acknowledgedBy = (load: ReturnType<typeof startLoad>, target: string) =>
  load.answers.filter((a) => a.kind === "sign-in" && a.target === target && a.status === 200)
    .length;

it("the other instance serves on without an error after one is killed, every credential intact", async () => {
  // Expired access tokens: the first reads refresh, on either instance, under its lock.
  const users: string[] = [];
  for (let i = 0; i < 6; i++) {
    users.push(await signInThroughService(survivor, `kill-${i}@example.com`, { ttlSeconds: 1 }));
  }
  const load = startLoad({
    google: survivor.google,
    targets: [survivor.url, victim.url],
    users,
    adminToken: ADMIN_TOKEN,
    prefix: "kill-load",
  });
  try {
    load.phase = "both";
    await until("sign-ins acknowledged by both instances", () =>
      [survivor.url, victim.url].every((target) => acknowledgedBy(load, target) >= 3),
    );
    victim.process.child.kill("SIGKILL");
    load.phase = "killed";
    load.targets = [survivor.url];
    await victim.process.exited;
    const before = acknowledgedBy(load, survivor.url);
    await until(
      "sign-ins and token reads on the survivor after the kill",
      () =>
        acknowledgedBy(load, survivor.url) >= before + 10 &&
        load.answers.filter((a) => a.phase === "killed" && a.kind === "token").length >= 20,
    );
  } finally {
    await load.stop();
  }
  expect(failuresOf(load, "both", survivor.url)).toEqual([]);
  expect(failuresOf(load, "killed", survivor.url)).toEqual([]);

  // Users signed in on either instance read their tokens through the survivor.
  const unread: string[] = [];
  for (const sub of [...users, ...load.acknowledged]) {
    const response = await fetch(`${survivor.url}/v1/users/${sub}/access-token`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (response.status !== 200) unread.push(`${sub} ${response.status}`);
  }
  expect(unread).toEqual([]);
  await expectEveryCredentialWorks(survivor.service.vault, survivor.google, [
    ...users,
    ...load.acknowledged,
  ]);
}, 180_000);
