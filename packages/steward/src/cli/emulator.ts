import { Command, InvalidArgumentError } from "commander";
import { loadEmulatorPackage } from "../google/emulator-package.js";

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError("a port is a number from 0 to 65535");
  }
  return port;
}

/** `steward emulator`: the local Google of `@steward/emulator` (as `steward-emulator`), until Ctrl-C. */
export function emulatorCommand(): Command {
  return new Command("emulator")
    .description("Run the local Google emulator (OAuth, ID tokens, Drive appDataFolder, Photos).")
    .option("--port <port>", "TCP port", parsePort, 9099)
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--issuer <url>", "iss of the ID tokens it signs", "https://accounts.google.com")
    .option(
      "--data-dir <dir>",
      "keep the emulator's state (users, grants, tokens, keys, files) here across restarts",
    )
    .option(
      "--write-client-secret <file>",
      "write the default web client's client_secret.json here",
    )
    .action(
      async (options: {
        port: number;
        host: string;
        issuer: string;
        dataDir?: string;
        writeClientSecret?: string;
      }) => {
        const { runEmulator } = await loadEmulatorPackage();
        // Signals are handled before the banner is printed: whoever reads it may stop us at once.
        const started = runEmulator(options);
        stopOnSignal(async () => (await started).close());
        await started;
      },
    );
}

/**
 * On the first SIGINT or SIGTERM, runs `stop`, then exits: 0 once it has stopped, 1 (after
 * printing why) when stopping failed, so a supervisor sees that something may be left running.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = () => {
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
