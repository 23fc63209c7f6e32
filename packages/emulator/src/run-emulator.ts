import { writeClientSecretFile } from "./client-secret.js";
import { type Emulator, startEmulator } from "./start-emulator.js";

export interface RunEmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Listen address. */
  host: string;
  /** `iss` of the ID tokens it signs. */
  issuer: string;
  /** Keep the state here across restarts; in memory when unset. */
  dataDir?: string;
  /** Write the default web client's `client_secret.json` here. */
  writeClientSecret?: string;
  /** Where the banner goes, one line per call; `console.log` by default. */
  print?: (line: string) => void;
}

/**
 * What `steward-emulator` (and `steward emulator`) do: starts the emulator, prints where it
 * listens and what it holds, and writes the client secret file when asked. The caller stops it.
 *
 * @throws EmulatorError `port_in_use`, `emulator_state_corrupt`.
 */
export async function runEmulator(options: RunEmulatorOptions): Promise<Emulator> {
  const print = options.print ?? console.log;
  const emulator = await startEmulator({
    port: options.port,
    host: options.host,
    issuer: options.issuer,
    dataDir: options.dataDir,
  });
  print(`Local Google emulator listening on ${emulator.url}`);
  print(`  emulator state:     ${stateLine(emulator.stateDir)}`);
  print(`  default web client: ${emulator.defaultClient.clientId}`);
  print(`  OpenID discovery:   ${emulator.url}/.well-known/openid-configuration`);
  print(`  control API:        ${emulator.url}/emulator/stats`);
  if (options.writeClientSecret) {
    try {
      await writeClientSecretFile(options.writeClientSecret, emulator.url, emulator.defaultClient);
    } catch (error) {
      await emulator.close();
      throw error;
    }
    print(`  client secret file: ${options.writeClientSecret}`);
  }
  return emulator;
}

/** Where a banner says the emulator's state lives. */
export function stateLine(stateDir: string | undefined): string {
  return stateDir === undefined ? "in memory, lost on exit" : `kept in ${stateDir}`;
}
