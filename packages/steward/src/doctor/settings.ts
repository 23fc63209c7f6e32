import { type Config, loadConfig } from "../config/load.js";
import { type Check, fail, messageOf, ok } from "./check.js";

/**
 * The settings, read from the environment as the service reads them. In emulator mode the
 * emulator is the one a running service started (`resolve`, the CLI's `besideService`).
 */
export function settingsCheck(resolve: (config: Config) => Promise<Config>): Check {
  return async (context) => {
    let config: Config;
    try {
      config = loadConfig(context.env);
    } catch (error) {
      const problems = messageOf(error)
        .split("\n")
        .slice(1)
        .map((line) => line.replace(/^\s*-\s*/, ""));
      return fail(
        "settings",
        problems.join("; "),
        "fix these variables where the service's environment is set (see docs/configuration.md)",
      );
    }
    try {
      context.config = await resolve(config);
    } catch (error) {
      return fail("settings", messageOf(error), "start the service first: npm start");
    }
    return ok("settings", `valid: ${describe(context.config)}`);
  };
}

function describe(config: Config): string {
  const google =
    config.google.mode === "google"
      ? `Google, client ${config.google.client.clientId}`
      : config.google.mode === "external-emulator"
        ? `the emulator at ${config.google.baseUrl}`
        : "the local emulator";
  const database =
    config.databaseUrl === undefined
      ? `the embedded PostgreSQL in ${config.dataDir}`
      : "DATABASE_URL";
  return `${google}, ${database}`;
}
