import { join } from "node:path";
import { Command } from "commander";
import pino from "pino";
import { loadConfig } from "../config/load.js";
import { loadEmulatorPackage } from "../google/emulator-package.js";
import type { StewardApp } from "../server/apps.js";
import { REDACTED_PATHS } from "../server/logger.js";
import { startService } from "../server/service.js";
import { collectApps, defaultApps, loadApp } from "./app-module.js";
import { EMULATOR_CLIENT_FILE } from "./core.js";
import { parsePort, stopOnSignal } from "./emulator.js";
import { loadJobDefinitions } from "./job-definitions.js";

interface ServeFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
  emulatorPort: number;
  jobs?: string;
  app?: string[];
}

/** `steward serve` (and `steward start`, what `npm start` runs): the service, until SIGTERM. */
export function serveCommand(name: "serve" | "start"): Command {
  return new Command(name)
    .description(
      name === "start"
        ? "Start Steward with its embedded defaults (embedded PostgreSQL, local Google emulator)."
        : "Run the Steward service.",
    )
    .option("--host <host>", "listen address (STEWARD_HOST)")
    .option("--port <port>", "listen port (STEWARD_PORT)")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (STEWARD_TLS_CERT)")
    .option("--tls-key <file>", "and this private key (STEWARD_TLS_KEY)")
    .option("--emulator-port <port>", "port of the in-process Google emulator", parsePort, 9099)
    .option("--jobs <module>", "also work the jobs a module defines (see steward worker)")
    .option(
      "--app <module>",
      "mount the app a module exports on the service (a path or package; repeatable); by default the photo demo, when installed and Google is an emulator",
      collectApps,
    )
    .action(async (flags: ServeFlags) => {
      const config = loadConfig(process.env, flags);
      // A bad module is refused before anything starts.
      const define = flags.jobs === undefined ? undefined : await loadJobDefinitions(flags.jobs);
      const apps = await loadApps(flags.app, config.google.mode !== "google");
      const logger = pino({
        level: process.env.STEWARD_LOG_LEVEL ?? "info",
        redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      });
      const service = await startService(config, {
        logger,
        emulatorPort: flags.emulatorPort,
        apps,
      });
      stopOnSignal(() => service.close());
      try {
        await define?.(service.jobs);
      } catch (error) {
        await service.close();
        throw error;
      }
      const lines = [`Steward is listening on ${service.url}`, `  API docs: ${service.url}/docs`];
      lines.push(...pageLines(service.url, service.apps));
      if (flags.jobs !== undefined) lines.push(`  Jobs: working the jobs of ${flags.jobs}`);
      if (service.emulator) {
        // Loaded already: the service started its emulator from the package.
        const { stateLine, writeClientSecretFile } = await loadEmulatorPackage();
        const file = join(config.dataDir, EMULATOR_CLIENT_FILE);
        await writeClientSecretFile(file, service.emulator.url, service.emulator.defaultClient);
        lines.unshift(
          "Running against the LOCAL GOOGLE EMULATOR: no real Google account or internet is involved.",
        );
        lines.push(`  Emulator: ${service.emulator.url} (its client: ${file})`);
        lines.push(`  Emulator state: ${stateLine(service.emulator.stateDir)}`);
      }
      lines.push(`  Database: ${service.vault.database.description}`);
      console.log(lines.join("\n"));
    });
}

/**
 * The `--app` modules, only those when any is given; without one, the photo demo against an
 * emulator, as `steward serve` and `steward start` have always served it, if it is installed.
 */
async function loadApps(
  specifiers: readonly string[] | undefined,
  emulated: boolean,
): Promise<StewardApp[]> {
  if (specifiers !== undefined) return Promise.all(specifiers.map(loadApp));
  return defaultApps(emulated);
}

/** Where a first-time user goes next: the mounted apps' pages (the demo) and the admin page. */
function pageLines(url: string, apps: readonly StewardApp[]): string[] {
  return [
    ...apps.map((app) => `  ${app.name}: ${url}${app.home ?? "/"}`),
    `  Admin page: ${url}/admin`,
  ];
}
