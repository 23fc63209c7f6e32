import { randomBytes } from "node:crypto";
import { Presets, SingleBar } from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../config/load.js";
import { sealSeedUsers } from "../crypto/index.js";
import { StewardError } from "../errors.js";
import { anyUserStored, insertSeedUsers, type SeedUser } from "../store/index.js";
import { withCore } from "./core.js";

const print = (line: string) => process.stdout.write(`${line}\n`);

/** What the emulator's bulk route answers per user (packages/emulator/src/routes/control.ts). */
interface BulkUser extends Omit<SeedUser, "accessTokenExpiresAt"> {
  readonly expiresIn: number;
}

const GIVEN = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"];
const FAMILY = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"];

/**
 * `steward seed --users N`: a benchmark's users, made quickly. Each is a user of the emulator
 * with a live grant (so their refresh token refreshes there), stored here with both tokens
 * sealed as a sign-in stores them. Emulator mode only; an empty database unless `--append`.
 *
 * @throws StewardError `seed_refused` when talking to Google itself, or when users are stored
 *   and `--append` is not given (nothing is written).
 */
export function seedCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("seed")
    .description("Create N users with sealed credentials, for benchmarks (emulator mode only).")
    .requiredOption("--users <n>", "how many users", (value) => count(value, 10_000_000))
    .option("--append", "add to the users already stored")
    .option("--batch-size <n>", "users per transaction", (value) => count(value, 10_000), 5_000)
    .option("--scope <scope...>", "scopes granted besides openid, email and profile", [])
    .action((options: { users: number; append?: boolean; batchSize: number; scope: string[] }) => {
      if (loadConfig(env).google.mode === "google") throw refusedOutsideEmulator();
      return withCore(env, "steward seed", async (core) => {
        if (!core.emulated) throw refusedOutsideEmulator();
        const { db } = core.vault.database;
        if (!options.append && (await anyUserStored(db))) {
          throw new StewardError("seed_refused", {
            message:
              "The database already holds users; give --append to add to them (seeding is for benchmarks).",
          });
        }
        const emulator = new URL(core.endpoints.tokenUrl).origin;
        const scopes = ["openid", "email", "profile", ...options.scope];
        const run = randomBytes(4).toString("hex");
        const bar = new SingleBar(
          {
            stream: process.stderr,
            format: "Seeding {bar} {percentage}% | {value}/{total} users | {rate}/s",
            noTTYOutput: true,
            notTTYSchedule: 2_000,
            hideCursor: false,
          },
          Presets.shades_classic,
        );
        const started = performance.now();
        const rate = (done: number) =>
          Math.round(done / Math.max((performance.now() - started) / 1000, 0.001));
        let done = 0;
        const advance = (stored: number) => {
          done += stored;
          bar.update(done, { rate: rate(done) });
        };
        bar.start(options.users, 0, { rate: 0 });
        const batches: Array<[number, number]> = [];
        for (let from = 0; from < options.users; from += options.batchSize) {
          batches.push([from, Math.min(from + options.batchSize, options.users)]);
        }
        const fetchBatch = ([from, to]: [number, number]) =>
          bulkUsers(emulator, core.client.clientId, scopes, run, from, to);
        try {
          // Three stages overlap: the emulator mints the next batch, this process seals the
          // current one, PostgreSQL stores the previous one.
          let next = batches[0] && fetchBatch(batches[0]);
          let storing: Promise<number> | undefined;
          for (let i = 0; next !== undefined; i++) {
            const { users, scopes: granted } = await next;
            const following = batches[i + 1];
            next = following && fetchBatch(following);
            next?.catch(() => {}); // awaited next turn; a failure here must not go unhandled
            const now = Date.now();
            const sealed = sealSeedUsers(
              core.vault.keyring,
              users.map(({ expiresIn, ...user }) => ({
                ...user,
                accessTokenExpiresAt: new Date(now + expiresIn * 1000),
              })),
              granted,
            );
            if (storing !== undefined) advance(await storing);
            storing = insertSeedUsers(db, sealed).then(() => users.length);
            storing.catch(() => {}); // awaited next turn or below
          }
          if (storing !== undefined) advance(await storing);
        } finally {
          bar.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        print(
          `Seeded ${options.users} users in ${seconds.toFixed(1)} s (${rate(options.users)} users/s).`,
        );
      });
    });
}

/** Users `from` to `to` (exclusive) of this run, made at the emulator with a live grant each. */
async function bulkUsers(
  emulator: string,
  clientId: string,
  scopes: readonly string[],
  run: string,
  from: number,
  to: number,
): Promise<{ scopes: string[]; users: BulkUser[] }> {
  const users = [];
  for (let i = from; i < to; i++) {
    const given = GIVEN[i % GIVEN.length] as string;
    const family = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length] as string;
    users.push({
      email: `${given}.${family}.${run}.${i}@seed.example.com`.toLowerCase(),
      name: `${given} ${family}`,
    });
  }
  const response = await fetch(`${emulator}/emulator/users:bulk`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clientId, scopes, users }),
  });
  if (response.status !== 201) {
    throw new StewardError("upstream_rejected", {
      message: `The emulator refused to create seeded users (HTTP ${response.status}).`,
    });
  }
  return (await response.json()) as { scopes: string[]; users: BulkUser[] };
}

function refusedOutsideEmulator(): StewardError {
  return new StewardError("seed_refused", {
    message:
      "steward seed runs in emulator mode only: Steward is configured for Google itself (STEWARD_GOOGLE=google), whose users cannot be made up.",
  });
}

function count(value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return n;
}
