// `steward start` from source in a child process (embedded PostgreSQL in `dataDir`) against an
// emulator running in the test process: killing the service leaves Google standing, as the real
// one would be.
import type { Emulator } from "@steward/emulator";
import { type CliProcess, startCli } from "../../cli/support/cli-process.js";

export interface StewardProcess {
  readonly process: CliProcess;
  /** Base URL of its API. */
  readonly url: string;
}

export async function startStewardProcess(options: {
  dataDir: string;
  google: Emulator;
  keyLine: string;
  env?: Record<string, string>;
}): Promise<StewardProcess> {
  const { google } = options;
  const child = startCli(["start"], {
    ...process.env,
    STEWARD_DATA_DIR: options.dataDir,
    STEWARD_PORT: "0",
    STEWARD_KEYS: options.keyLine,
    STEWARD_GOOGLE: google.url,
    GOOGLE_CLIENT_ID: google.defaultClient.clientId,
    GOOGLE_CLIENT_SECRET: google.defaultClient.clientSecret as string,
    STEWARD_LOG_LEVEL: "warn",
    ...options.env,
  });
  await child.printed("Steward is listening on ", 60_000);
  const url = /Steward is listening on (\S+)/.exec(child.output().stdout)?.[1];
  if (url === undefined) throw new Error("Steward printed no URL");
  return { process: child, url };
}
