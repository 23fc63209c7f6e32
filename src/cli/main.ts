import { Command } from "commander";
import { apiKeysCommand } from "./api-keys.js";
import { doctorCommand } from "./doctor.js";
import { emulatorCommand } from "./emulator.js";
import { keysCommand } from "./keys.js";
import { riscCommand } from "./risc.js";
import { serveCommand } from "./serve.js";
import { tokenCommand, usersCommand } from "./users.js";
import { workerCommand } from "./worker.js";

/** The `steward` command line. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command("steward")
    .description("Offline access to Google APIs for your app's backend, and a local Google.")
    .showHelpAfterError();
  program.addCommand(emulatorCommand());
  program.addCommand(keysCommand());
  program.addCommand(apiKeysCommand());
  program.addCommand(usersCommand());
  program.addCommand(tokenCommand());
  program.addCommand(riscCommand());
  program.addCommand(serveCommand("serve"));
  program.addCommand(serveCommand("start"));
  program.addCommand(workerCommand());
  program.addCommand(doctorCommand());
  await program.parseAsync(argv as string[]);
}
