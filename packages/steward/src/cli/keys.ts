import { constants } from "node:os";
import { Presets, SingleBar } from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import {
  assertKeyringCoversStoredKids,
  generateKeyLine,
  type Keyring,
  keyUsage,
  loadKeyring,
  type RotationSummary,
  rotateCredentials,
} from "../crypto/index.js";
import { StewardError } from "../errors.js";
import { type Database, DEFAULT_DATA_DIR, migrate, openDatabase } from "../store/index.js";

/** Where the commands read settings and write output; the process's own by default. */
export interface KeysCommandIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

// Two phases, because instances sharing a database restart one by one: every instance must hold
// the new key before any of them seals with it.
const ROLLOUT_STEPS = [
  "Roll it out in two phases, so that no instance meets a credential sealed with a key it lacks",
  "(NEW is the line above, OLD the current STEWARD_KEYS):",
  "  1. On every instance set STEWARD_KEYS=OLD,NEW (NEW not yet active) and restart them all.",
  "  2. Then on every instance set STEWARD_KEYS=NEW,OLD (NEW active) and restart them all.",
  "  3. Then run `steward keys rotate` with STEWARD_KEYS=NEW,OLD.",
  "  4. Drop an old key only once rotate (or `steward keys status`) shows 0 for its kid.",
  "",
].join("\n");

/**
 * `steward keys generate | status | rotate`: manage the keyring that seals credentials.
 * `status` and `rotate` read `STEWARD_KEYS`, `DATABASE_URL` and `STEWARD_DATA_DIR` as the
 * service does; on the embedded PostgreSQL they attach to a running Steward's server, or start
 * it themselves when none runs.
 *
 * `rotate` stops after the batch in progress on SIGINT or SIGTERM, prints its summary, and sets
 * the process's exit code to 128 + the signal's number (130 for Ctrl-C), so that a script does
 * not take an interrupted rotation for a finished one.
 *
 * @example
 *   steward keys generate                       # k20261126-3fa2:q7Jx...=
 *   # every instance: STEWARD_KEYS="$OLD,$NEW", restart; then "$NEW,$OLD", restart; then:
 *   STEWARD_KEYS="$NEW,$OLD" steward keys rotate
 *   STEWARD_KEYS="$NEW,$OLD" steward keys status  # k20261126-3fa2 1000 active / k1 0
 */
export function keysCommand(io: KeysCommandIo = {}): Command {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const print = (line: string) => stdout.write(`${line}\n`);
  const command = new Command("keys").description(
    "Manage the keys that seal stored credentials (STEWARD_KEYS).",
  );

  command
    .command("generate")
    .description("Print a new key line, kid:base64(32 bytes), for STEWARD_KEYS.")
    .option("--kid <kid>", "key id (default: k + today's date + 4 hex digits)")
    .action((options: { kid?: string }) => {
      try {
        print(generateKeyLine(options.kid));
      } catch (error) {
        if (error instanceof TypeError) throw new InvalidArgumentError(error.message);
        throw error;
      }
      stderr.write(ROLLOUT_STEPS);
    });

  command
    .command("status")
    .description("Print each kid with the number of credentials it seals (0: safe to drop).")
    .action(async () => {
      await withStorage(env, stderr, "steward keys status", async (database, keyring) => {
        await printUsage(database, keyring, print);
      });
    });

  command
    .command("rotate")
    .description("Re-seal every credential under the active key (resumable).")
    .option("--batch-size <n>", "credentials per transaction", parseBatchSize, 1000)
    .action(async (options: { batchSize: number }) => {
      await withStorage(env, stderr, "steward keys rotate", async (database, keyring, logger) => {
        await assertKeyringCoversStoredKids(database.db, keyring);
        await migrate(database.db);
        const { summary, interruptedBy } = await rotateWithProgress(
          database,
          keyring,
          options.batchSize,
          stderr,
          logger,
        );
        print(describeSummary(summary));
        await printUsage(database, keyring, print);
        if (summary.failed.length > 0) {
          const shown = summary.failed.slice(0, 10).join(", ");
          throw new StewardError("credential_corrupt", {
            message:
              `${summary.failed.length} credentials could not be opened and were left as they ` +
              `were (subs ${shown}${summary.failed.length > 10 ? ", ..." : ""}); see the log.`,
          });
        }
        // The summary already says so; the exit code tells scripts.
        if (summary.interrupted) process.exitCode = 128 + constants.signals[interruptedBy];
      });
    });

  return command;
}

type Logger = pino.Logger;

async function withStorage(
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
  purpose: string,
  work: (database: Database, keyring: Keyring, logger: Logger) => Promise<void>,
): Promise<void> {
  const logger = pino({ level: "warn" }, stderr);
  const dataDir = env.STEWARD_DATA_DIR || DEFAULT_DATA_DIR;
  const keyring = await loadKeyring({
    value: env.STEWARD_KEYS,
    dataDir,
    whenUnset: "use-generated",
    logger,
  });
  const database = await openDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir,
    logger,
    purpose,
    whenDataDirInUse: "attach",
    createIfMissing: false,
    // The command stops itself on Ctrl-C (rotate finishes its batch first), then closes.
    handleSignals: false,
    poolSize: 3,
  });
  try {
    await work(database, keyring, logger);
  } finally {
    await database.close();
  }
}

async function rotateWithProgress(
  database: Database,
  keyring: Keyring,
  batchSize: number,
  stderr: NodeJS.WritableStream,
  logger: Logger,
): Promise<{ summary: RotationSummary; interruptedBy: NodeJS.Signals }> {
  const bar = new SingleBar(
    {
      stream: stderr,
      format: `Re-sealing under ${keyring.activeKid} {bar} {percentage}% | {value}/{total} | {rate}/s | failed {failed}`,
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      hideCursor: false,
    },
    Presets.shades_classic,
  );
  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals = "SIGINT";
  const interrupt = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    stderr.write("\nStopping after the batch in progress; run the command again to continue.\n");
    abort.abort();
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const started = performance.now();
  let barStarted = false;
  try {
    const summary = await rotateCredentials(database.db, keyring, {
      batchSize,
      logger,
      signal: abort.signal,
      onProgress: ({ done, total, failed }) => {
        if (!barStarted) {
          bar.start(total, 0, { rate: 0, failed: 0 });
          barStarted = true;
        }
        const rate = Math.round(done / ((performance.now() - started) / 1000));
        bar.update(done, { rate, failed });
      },
    });
    return { summary, interruptedBy };
  } finally {
    if (barStarted) bar.stop();
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
  }
}

function describeSummary(summary: RotationSummary): string {
  const seconds = summary.durationMs / 1000;
  const rate = seconds > 0 ? Math.round(summary.rotated / seconds) : summary.rotated;
  const head =
    summary.total === 0
      ? `Every credential is already sealed with ${summary.activeKid}.`
      : `Re-sealed ${summary.rotated} of ${summary.total} credentials under ${summary.activeKid} ` +
        `in ${seconds.toFixed(1)} s (${rate}/s); ${summary.failed.length} failed.`;
  return summary.interrupted ? `${head} Interrupted: run it again to continue.` : head;
}

async function printUsage(
  database: Database,
  keyring: Keyring,
  print: (line: string) => void,
): Promise<void> {
  for (const usage of await keyUsage(database.db, keyring)) {
    const note = usage.active ? " active" : usage.inRing ? "" : " missing from STEWARD_KEYS";
    print(`${usage.kid} ${usage.credentials}${note}`);
  }
}

function parseBatchSize(value: string): number {
  const size = Number(value);
  if (!/^\d+$/.test(value) || size < 1 || size > 50_000) {
    throw new InvalidArgumentError("a batch size is a number from 1 to 50000");
  }
  return size;
}
