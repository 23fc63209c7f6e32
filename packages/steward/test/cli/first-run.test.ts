// The operator commands as a new user first meets them: beside `npm start`'s defaults (emulator
// mode, the key generated into the data dir, the embedded PostgreSQL), with nothing set but the
// data dir.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeClientSecretFile } from "@steward/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CLIENT_FILE } from "../../src/cli/core.js";
import { startTestService, type TestService } from "../server/helpers.js";

let steward: TestService;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  steward = await startTestService();
  // What `steward start` writes beside its banner, and how commands find the emulator.
  await writeClientSecretFile(
    join(steward.dataDir, EMULATOR_CLIENT_FILE),
    steward.google.url,
    steward.google.defaultClient,
  );
  const inherited = Object.entries(process.env).filter(
    ([name]) => !/^(STEWARD_|GOOGLE_|DATABASE_URL$)/.test(name),
  );
  env = { ...Object.fromEntries(inherited), STEWARD_DATA_DIR: steward.dataDir };
}, 120_000);
afterAll(() => steward?.close());

function steward_(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", ...args],
    { env, timeout: 60_000 },
  );
}

describe("the CLI on first run", () => {
  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync("packages/steward/package.json", "utf8")) as {
      version: string;
    };
    expect((await steward_("--version")).stdout).toBe(`${version}\n`);
  });

  it("an empty list says so on stderr, keeps stdout empty, and no command prints a log line", async () => {
    const keys = await steward_("api-keys", "list");
    expect(keys.stdout).toBe("");
    expect(keys.stderr).toBe(
      "No API keys yet. Create one with: steward api-keys create --scope <tokens:read|proxy|admin> --name <what it is for>\n",
    );
    const users = await steward_("users", "list");
    expect(users).toEqual({
      stdout: "",
      stderr: "No users yet: a user is stored once your app posts their sign-in code.\n",
    });

    const created = await steward_("api-keys", "create", "--scope", "proxy", "--name", "first");
    const id = created.stdout.trim().split("_")[1] as string;
    // Only what the command says: the service already warned about the generated key.
    expect(created.stderr).toBe(`Created API key ${id} (proxy). It is shown once:\n`);
    const listed = await steward_("api-keys", "list");
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\tfirst\\tproxy\\t`));
    expect(listed.stderr).toBe("");
  }, 120_000);
});
