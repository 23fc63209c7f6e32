import { readFileSync } from "node:fs";
import { Command } from "commander";
import { apiKeysCommand } from "./api-keys.js";
import { doctorCommand } from "./doctor.js";
import { emulatorCommand } from "./emulator.js";
import { keysCommand } from "./keys.js";
import { riscCommand } from "./risc.js";
import { seedCommand } from "./seed.js";
import { serveCommand } from "./serve.js";
import { tokenCommand, usersCommand } from "./users.js";
import { workerCommand } from "./worker.js";

/** The `steward` command line. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command("steward")
    .description("Offline access to Google APIs for your app's backend, and a local Google.")
    .version(packageVersion(), "-V, --version", "print Steward's version")
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
  program.addCommand(seedCommand());
  await program.parseAsync(argv as string[]);
}

/** The version in package.json, two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
