import { Command } from "commander";
import { formatResults, runDoctor } from "../doctor/run.js";
import { besideService } from "./core.js";

/** `steward doctor`: checks a deployment from the service's environment, changing nothing. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .description(
      "Check a deployment from the service's environment: settings, database, schema, keys, Google client, clock, HTTPS, metrics. Exits 1 when a check fails.",
    )
    .option("--json", "print the results as JSON")
    .action(async (flags: { json?: boolean }) => {
      const results = await runDoctor(process.env, besideService);
      console.log(flags.json ? JSON.stringify({ results }, null, 2) : formatResults(results));
      if (results.some((result) => result.status === "fail")) process.exitCode = 1;
    });
}
