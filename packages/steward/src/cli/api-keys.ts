import { Command, InvalidArgumentError } from "commander";
import { API_KEY_SCOPES, type ApiKeyScope, ApiKeys } from "../api-keys/index.js";
import { withCore } from "./core.js";

const print = (line: string) => process.stdout.write(`${line}\n`);

function scope(value: string, previous: ApiKeyScope[] = []): ApiKeyScope[] {
  if (!API_KEY_SCOPES.includes(value as ApiKeyScope)) {
    throw new InvalidArgumentError(`a scope is one of ${API_KEY_SCOPES.join(", ")}`);
  }
  return [...previous, value as ApiKeyScope];
}

/** `steward api-keys create|list|revoke`: keys for the internal API, stored hashed. */
export function apiKeysCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("api-keys").description(
    "Create, list and revoke API keys for the internal API.",
  );
  command
    .command("create")
    .description("Create a key and print it once (it is stored hashed and cannot be shown again).")
    .requiredOption(
      "--scope <scope>",
      `what it may do: ${API_KEY_SCOPES.join(", ")} (repeat for several)`,
      scope,
    )
    .option("--name <name>", "what it is for", "unnamed")
    .action((options: { scope: ApiKeyScope[]; name: string }) =>
      withCore(env, "steward api-keys create", async (core) => {
        const { key, info } = await new ApiKeys(core.vault.database.db).create(
          options.name,
          options.scope,
        );
        process.stderr.write(
          `Created API key ${info.id} (${info.scopes.join(", ")}). It is shown once:\n`,
        );
        print(key);
      }),
    );
  command
    .command("list")
    .description("One line per key: id, name, scopes, created, last used, revoked.")
    .action(() =>
      withCore(env, "steward api-keys list", async (core) => {
        const keys = await new ApiKeys(core.vault.database.db).list();
        // On stderr: stdout stays one line per key, for scripts.
        if (keys.length === 0) {
          process.stderr.write(
            `No API keys yet. Create one with: steward api-keys create --scope <${API_KEY_SCOPES.join("|")}> --name <what it is for>\n`,
          );
        }
        for (const info of keys) {
          const when = (date: Date | null) => date?.toISOString() ?? "-";
          print(
            `${info.id}\t${info.name}\t${info.scopes.join(",")}\t${when(info.createdAt)}\t${when(info.lastUsedAt)}\t${when(info.revokedAt)}`,
          );
        }
      }),
    );
  command
    .command("revoke <id>")
    .description("Revoke a key (running services stop accepting it within 30 s).")
    .action((id: string) =>
      withCore(env, "steward api-keys revoke", async (core) => {
        await new ApiKeys(core.vault.database.db).revoke(id);
        print(`revoked ${id}`);
      }),
    );
  return command;
}
