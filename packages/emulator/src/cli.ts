import { parseArgs } from "node:util";
import { runEmulator } from "./run-emulator.js";
import { GOOGLE_ISSUER } from "./start-emulator.js";

const USAGE = `Usage: steward-emulator [options]

Run the local Google emulator (OAuth, ID tokens, Drive appDataFolder, Photos) until Ctrl-C.

Options:
  --port <port>                 TCP port (default: 9099)
  --host <host>                 listen address (default: "127.0.0.1")
  --issuer <url>                iss of the ID tokens it signs (default: "${GOOGLE_ISSUER}")
  --data-dir <dir>              keep the emulator's state (users, grants, tokens, keys, files)
                                here across restarts
  --write-client-secret <file>  write the default web client's client_secret.json here
  -h, --help                    display help`;

/**
 * The `steward-emulator` command: `args` are the arguments after the program name.
 *
 * @throws TypeError naming a bad option; EmulatorError `port_in_use`, `emulator_state_corrupt`.
 */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string", default: "9099" },
      host: { type: "string", default: "127.0.0.1" },
      issuer: { type: "string", default: GOOGLE_ISSUER },
      "data-dir": { type: "string" },
      "write-client-secret": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // Signals are handled before the banner is printed: whoever reads it may stop us at once.
  const started = runEmulator({
    port: parsePort(values.port),
    host: values.host,
    issuer: values.issuer,
    dataDir: values["data-dir"],
    writeClientSecret: values["write-client-secret"],
  });
  const stop = () => {
    started
      .then((emulator) => emulator.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(
            `Stopping failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          process.exit(1);
        },
      );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await started;
}

/** A TCP port from the command line: 0 to 65535, digits only. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) {
    throw new TypeError(`--port ${value}: a port is a number from 0 to 65535`);
  }
  return port;
}
