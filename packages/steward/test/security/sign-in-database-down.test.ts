// Regression: with the database down, a sign-in exchanged the code at Google first and only then
// failed to store it (500): the code was spent, and with it a first consent's refresh token. A
// sign-in now asks the database first and answers 503 `database_unavailable`, code unspent.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "@steward/emulator";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateKeyLine } from "../../src/crypto/index.js";
import { stopOrphanedPostmaster } from "../../src/embedded-postgres/postmaster.js";
import { silentLogger } from "../../src/shared/index.js";
import { killRunningClis } from "../cli/support/cli-process.js";
import { exchangeCode, sdkSignIn } from "../emulator/helpers.js";
import { postCode } from "../server/helpers.js";
import { removeDataDir } from "../vault/support/databases.js";
import { startStewardProcess } from "./support/steward-process.js";

let google: Emulator;
let dataDir: string;

beforeAll(async () => {
  google = await startEmulator({ port: 0 });
  dataDir = await mkdtemp(join(tmpdir(), "steward-database-down-"));
});
afterAll(async () => {
  killRunningClis();
  if (dataDir !== undefined) await removeDataDir(dataDir);
  await google?.close();
});

it("answers 503 database_unavailable with the database down, and the code stays redeemable", async () => {
  const steward = await startStewardProcess({ dataDir, google, keyLine: generateKeyLine("k1") });
  // The service's PostgreSQL stops under it (fast shutdown, as an outage or a restart would).
  await stopOrphanedPostmaster(join(dataDir, "postgres"), silentLogger, 30_000);

  const { serverAuthCode } = await sdkSignIn(google, { email: "database-down@example.com" });
  const response = await postCode(steward.url, { code: serverAuthCode }).catch((error) => {
    throw new Error(`the service did not answer: ${JSON.stringify(steward.process.output())}`, {
      cause: error,
    });
  });
  expect(response.status).toBe(503);
  expect(response.body).toEqual({
    error: { code: "database_unavailable", message: expect.any(String) },
  });

  // Google never saw the code: it is still good for one exchange.
  const exchanged = await exchangeCode(google, serverAuthCode);
  expect(exchanged.status).toBe(200);
  expect(exchanged.body.refresh_token).toEqual(expect.any(String));
  steward.process.child.kill("SIGKILL");
  await steward.process.exited;
}, 90_000);
