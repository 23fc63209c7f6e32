import { Command } from "commander";
import { startEmulator, writeClientSecretFile } from "../emulator/index.js";
import { parsePort, stopOnSignal } from "./emulator.js";

/**
 * `steward start` (what `npm start` runs). Until the service lands, it starts the local Google
 * emulator alone and says so.
 */
export function startCommand(): Command {
  return new Command("start")
    .description("Start Steward with its embedded defaults (for now: the local Google emulator).")
    .option("--emulator-port <port>", "port of the local Google emulator", parsePort, 9099)
    .action(async (options: { emulatorPort: number }) => {
      const emulator = await startEmulator({ port: options.emulatorPort });
      const secretFile = "client_secret_emulator.json";
      await writeClientSecretFile(secretFile, emulator.url, emulator.defaultClient);
      console.log(
        "Steward: the service is not built yet; starting the local Google emulator alone.",
      );
      console.log(`Local Google emulator: ${emulator.url}`);
      console.log(`  OpenID discovery:   ${emulator.url}/.well-known/openid-configuration`);
      console.log(
        `  client secret file: ${secretFile} (client ${emulator.defaultClient.clientId})`,
      );
      console.log("Press Ctrl-C to stop.");
      stopOnSignal(() => emulator.close());
    });
}
