import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { loadConfig } from "../config/load.js";
import { StewardError } from "../errors.js";
import { emulatorEndpoints, GOOGLE_ENDPOINTS } from "../google/endpoints.js";
import { type RiscManagement, riscManagement } from "../google/risc-management.js";
import { SECURITY_EVENT_TYPES } from "../google/security-event.js";
import { parseServiceAccountKey } from "../google/service-account-key.js";
import { besideService } from "./core.js";

const print = (line: string) => process.stdout.write(`${line}\n`);

interface KeyOption {
  serviceAccountKey?: string;
}

/**
 * `steward risc register|status|verify`: set up Google's Cross-Account Protection for this
 * project, as a service account with `roles/riscconfigs.admin` (its JSON key: the
 * `--service-account-key` file, or `GOOGLE_APPLICATION_CREDENTIALS`). The RISC API is Google's
 * (`https://risc.googleapis.com`), or the emulator's in emulator mode.
 *
 * @throws StewardError `config_invalid` for a missing or malformed key file;
 *   `upstream_rejected` / `upstream_unavailable` when the RISC API refuses or cannot be reached.
 * @example
 *   steward risc register --service-account-key sa.json --url https://steward.example.com/v1/risc
 *   steward risc status --service-account-key sa.json
 *   steward risc verify --service-account-key sa.json
 */
export function riscCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("risc").description(
    "Register Steward with Google's Cross-Account Protection (RISC) and check the stream.",
  );
  const keyFlag = "--service-account-key <file>";
  const keyHelp = "the service account's JSON key (default: GOOGLE_APPLICATION_CREDENTIALS)";
  command
    .command("register")
    .description("Point the project's RISC stream at Steward, for every event type it handles.")
    .option(keyFlag, keyHelp)
    .requiredOption("--url <url>", "Steward's receiver, e.g. https://steward.example.com/v1/risc")
    .action(async (options: KeyOption & { url: string }) => {
      const risc = await managementFor(env, options);
      const stream = await risc.updateStream({
        receiverUrl: options.url,
        eventsRequested: Object.values(SECURITY_EVENT_TYPES),
      });
      print(`RISC stream configured: events go to ${stream.receiverUrl}`);
      for (const type of stream.eventsRequested) print(`  ${type}`);
    });
  command
    .command("status")
    .description("The project's RISC stream: enabled or not, its receiver and event types.")
    .option(keyFlag, keyHelp)
    .action(async (options: KeyOption) => {
      const risc = await managementFor(env, options);
      const stream = await risc.getStream();
      print(`status: ${await risc.getStatus()}`);
      print(`receiver: ${stream.receiverUrl}`);
      print("events requested:");
      for (const type of stream.eventsRequested) print(`  ${type}`);
    });
  command
    .command("verify")
    .description("Ask Google to push a verification event, with a random state, to the receiver.")
    .option(keyFlag, keyHelp)
    .action(async (options: KeyOption) => {
      const risc = await managementFor(env, options);
      const state = randomBytes(16).toString("hex");
      await risc.verify(state);
      print(`verification requested: the receiver should log state ${state}`);
    });
  return command;
}

async function managementFor(env: NodeJS.ProcessEnv, options: KeyOption): Promise<RiscManagement> {
  const file = options.serviceAccountKey ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!file) {
    throw new StewardError("config_invalid", {
      message:
        "Give the service account's JSON key: --service-account-key FILE (or set GOOGLE_APPLICATION_CREDENTIALS).",
    });
  }
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new StewardError("config_invalid", {
      message: `The service account key ${file} cannot be read.`,
      cause: error,
    });
  });
  const parsed = parseServiceAccountKey(text);
  if ("problems" in parsed) {
    throw new StewardError("config_invalid", {
      message: `The service account key ${file}: ${parsed.problems.join("; ")}`,
    });
  }
  return riscManagement({ apiUrl: await riscApiUrl(env), key: parsed.key });
}

/** Google's RISC API, or in emulator mode the emulator's (a running service's, or the URL set). */
async function riscApiUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const { google } = await besideService(loadConfig(env));
  if (google.mode === "google") return GOOGLE_ENDPOINTS.riscApiUrl;
  if (google.mode === "external-emulator") return emulatorEndpoints(google.baseUrl).riscApiUrl;
  throw new StewardError("config_invalid", { message: "No RISC API is configured." });
}
