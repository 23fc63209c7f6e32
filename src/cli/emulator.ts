import { Command, InvalidArgumentError } from "commander";
import { startEmulator, writeClientSecretFile } from "../emulator/index.js";

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError("a port is a number from 0 to 65535");
  }
  return port;
}

/** `steward emulator`: the local Google, until Ctrl-C. */
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
        const emulator = await startEmulator({
          port: options.port,
          host: options.host,
          issuer: options.issuer,
          dataDir: options.dataDir,
        });
        console.log(`Local Google emulator listening on ${emulator.url}`);
        console.log(`  emulator state:     ${stateLine(emulator.stateDir)}`);
        console.log(`  default web client: ${emulator.defaultClient.clientId}`);
        console.log(`  OpenID discovery:   ${emulator.url}/.well-known/openid-configuration`);
        console.log(`  control API:        ${emulator.url}/emulator/stats`);
        if (options.writeClientSecret) {
          await writeClientSecretFile(
            options.writeClientSecret,
            emulator.url,
            emulator.defaultClient,
          );
          console.log(`  client secret file: ${options.writeClientSecret}`);
        }
        stopOnSignal(() => emulator.close());
      },
    );
}

/** Where the banner says the emulator's state lives. */
export function stateLine(stateDir: string | undefined): string {
  return stateDir === undefined ? "in memory, lost on exit" : `kept in ${stateDir}`;
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
