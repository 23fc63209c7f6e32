import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { loadConfig } from "../config/load.js";
import { createJobs, jobsConnectionString } from "../jobs/index.js";
import { REDACTED_PATHS } from "../server/logger.js";
import { withCore } from "./core.js";
import { loadJobDefinitions } from "./job-definitions.js";

/**
 * `steward worker --jobs ./jobs.js`: a process that only works jobs, beside the service (same
 * PostgreSQL, same keys, same Google). The module exports `define(jobs)`, which calls
 * `jobs.define(...)` for each job, the same function the service's process may call. Runs until
 * SIGINT or SIGTERM, then lets running jobs finish (up to 10 s) and exits.
 *
 * @example
 *   // jobs.js
 *   export function define(jobs) {
 *     return jobs.define("sync", async ({ google }) => (await google.fetch(url)).status);
 *   }
 *   // shell
 *   steward worker --jobs ./jobs.js --concurrency 8
 */
export function workerCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("worker")
    .description("Work background jobs only, with the definitions of a module, until SIGTERM.")
    .requiredOption("--jobs <module>", "a module exporting define(jobs), which defines the jobs")
    .option("--concurrency <n>", "jobs of one queue run at once", positiveInteger, 4)
    .action(async (flags: { jobs: string; concurrency: number }) => {
      const define = await loadJobDefinitions(flags.jobs);
      const { databaseUrl } = loadConfig(env);
      await withCore(env, "steward worker", async (core) => {
        const jobs = await createJobs({
          connectionString: jobsConnectionString(databaseUrl, core.vault.database),
          tokens: core.tokens,
          endpoints: core.endpoints,
          store: core.vault.store,
          logger: pino({
            level: env.STEWARD_LOG_LEVEL ?? "info",
            redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
          }),
          concurrency: flags.concurrency,
        });
        try {
          await define(jobs);
          await jobs.startWorkers();
          process.stdout.write(
            `Steward worker ${process.pid} is working the jobs of ${flags.jobs}\n`,
          );
          await untilSignal();
        } finally {
          await jobs.stop();
        }
      });
    });
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a whole number, at least 1");
  return n;
}
