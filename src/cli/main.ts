import { Command } from "commander";
import { emulatorCommand } from "./emulator.js";
import { startCommand } from "./start.js";

/** The `steward` command line. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command("steward")
    .description("Offline access to Google APIs for your app's backend, and a local Google.")
    .showHelpAfterError();
  program.addCommand(emulatorCommand());
  program.addCommand(startCommand());
  await program.parseAsync(argv as string[]);
}
