import { Command, InvalidArgumentError } from "commander";
import { revokeGrant } from "../access/revoke.js";
import { StewardError } from "../errors.js";
import type { UserRecord } from "../store/index.js";
import { withCore } from "./core.js";

const print = (line: string) => process.stdout.write(`${line}\n`);

function describeUser(user: UserRecord): string {
  const credential = user.credential;
  const state = credential
    ? `${credential.status}${credential.lastError ? ` (last error ${credential.lastError})` : ""}`
    : "no credential";
  return `${user.sub}\t${user.email ?? "-"}\t${state}\t${credential?.grantedScopes.join(" ") ?? ""}`;
}

/**
 * `steward users list|show|revoke`: the stored users, from the operator's shell.
 *
 * @throws StewardError `user_not_found` from `revoke` of a sub not stored (nothing is recorded).
 */
export function usersCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("users").description("List, show and revoke stored users.");
  command
    .command("list")
    .description("One line per user: sub, email, credential state, granted scopes.")
    .option("--limit <n>", "at most this many", (value) => positive(value), 100)
    .option("--after <sub>", "start after this sub (paging)")
    .action((options: { limit: number; after?: string }) =>
      withCore(env, "steward users list", async (core) => {
        const users = await core.vault.store.listUsers({
          limit: options.limit,
          after: options.after,
        });
        // On stderr: stdout stays one line per user, for scripts.
        if (users.length === 0) {
          process.stderr.write(
            options.after === undefined
              ? "No users yet: a user is stored once your app posts their sign-in code.\n"
              : `No users after ${options.after}.\n`,
          );
        }
        for (const user of users) print(describeUser(user));
      }),
    );
  command
    .command("show <sub>")
    .description("The user's profile and credential state as JSON (never a token).")
    .action((sub: string) =>
      withCore(env, "steward users show", async (core) => {
        const user = await core.vault.store.getUser(sub);
        if (user === undefined) throw new InvalidArgumentError(`no user with sub ${sub}`);
        print(JSON.stringify(user, null, 2));
      }),
    );
  command
    .command("revoke <sub>")
    .description("Revoke the user's grant at Google, then forget the tokens.")
    .action((sub: string) =>
      withCore(env, "steward users revoke", async (core) => {
        // As the HTTP route does: revokeGrant alone would record a revocation of nobody.
        if ((await core.vault.store.getUser(sub)) === undefined) {
          throw new StewardError("user_not_found", {
            message: `no user with sub ${sub}; nothing was revoked`,
          });
        }
        const result = await revokeGrant({ ...core, store: core.vault.store }, sub, {
          reason: "revoked_by_operator",
          actor: "cli",
        });
        print(
          result.revokedAtGoogle
            ? `revoked ${sub} at Google and here`
            : `revoked ${sub} here (Google had already forgotten it)`,
        );
      }),
    );
  return command;
}

/** `steward token SUB [--scope S]`: prints a fresh access token, for scripts. */
export function tokenCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("token")
    .description("Print a fresh access token for the user (for scripts; it is a secret).")
    .argument("<sub>", "the user's Google sub")
    .option("--scope <scope...>", "scopes the token must carry")
    .action((sub: string, options: { scope?: string[] }) =>
      withCore(env, "steward token", async (core) => {
        print((await core.tokens.accessToken(sub, { scopes: options.scope })).token);
      }),
    );
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError("a number from 1 to 1000");
  return n;
}
