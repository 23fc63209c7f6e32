import type { Config } from "../config/load.js";
import { type Check, type CheckResult, type DoctorContext, fail, messageOf } from "./check.js";
import { clockCheck } from "./clock.js";
import { databaseCheck } from "./database.js";
import { googleClientCheck } from "./google-client.js";
import { httpsCheck } from "./https.js";
import { keysCheck } from "./keys.js";
import { listenCheck } from "./listen.js";
import { locksCheck } from "./locks.js";
import { metricsCheck } from "./metrics.js";
import { privilegesCheck } from "./privileges.js";
import { schemaCheck } from "./schema.js";
import { settingsCheck } from "./settings.js";

export type { CheckResult } from "./check.js";

/**
 * Runs every check in order (later ones build on what earlier ones found), changing nothing.
 * `resolve` turns emulator mode's settings into the emulator a running service started.
 */
export async function runDoctor(
  env: NodeJS.ProcessEnv,
  resolve: (config: Config) => Promise<Config>,
): Promise<CheckResult[]> {
  const checks: [string, Check][] = [
    ["settings", settingsCheck(resolve)],
    ["database", databaseCheck],
    ["privileges", privilegesCheck],
    ["listen", listenCheck],
    ["locks", locksCheck],
    ["schema", schemaCheck],
    ["keys", keysCheck],
    ["google", googleClientCheck],
    ["clock", clockCheck],
    ["https", httpsCheck],
    ["metrics", metricsCheck],
  ];
  const context: DoctorContext = { env };
  const results: CheckResult[] = [];
  try {
    for (const [name, check] of checks) {
      // A check that breaks (the connection lost midway) is a failure of its own; the rest run.
      results.push(
        await check(context).catch((error: unknown) =>
          fail(name, `the check could not finish: ${messageOf(error)}`, "run the doctor again"),
        ),
      );
    }
  } finally {
    await context.database?.db.destroy();
  }
  return results;
}

/** One line per check: status, name, what was found and, for a failure, what to do. */
export function formatResults(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  return results
    .map((result) => {
      const status = { ok: "ok", fail: "FAIL", skip: "skip" }[result.status].padEnd(6);
      const detail = result.status === "skip" ? `skipped: ${result.detail}` : result.detail;
      const advice = result.advice === undefined ? "" : `: ${result.advice}`;
      return `${status}${result.name.padEnd(width + 2)}${detail}${advice}`;
    })
    .join("\n");
}
