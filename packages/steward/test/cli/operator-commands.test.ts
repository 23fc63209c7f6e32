import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkSignIn } from "../emulator/helpers.js";
import {
  postCode,
  sharedEnvironment,
  startTestService,
  type TestService,
} from "../server/helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let steward: TestService;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  steward = await startTestService();
  env = { ...process.env, ...(await sharedEnvironment(steward)) };
}, 120_000);
afterAll(() => steward?.close());

async function steward_(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(
    "npx",
    ["tsx", "packages/steward/test/cli/support/run-cli.ts", ...args],
    {
      env,
      timeout: 60_000,
    },
  );
}

describe("operator commands", () => {
  it("api-keys create prints a key once that the internal API accepts; list shows it hashed; revoke ends it", async () => {
    const { serverAuthCode, sub } = await sdkSignIn(steward.google, {
      email: "cli@example.com",
      scopes: [APPDATA],
    });
    await postCode(steward.url, { code: serverAuthCode });
    const created = await steward_(
      "api-keys",
      "create",
      "--scope",
      "tokens:read",
      "--name",
      "nightly-jobs",
    );
    const key = created.stdout.trim();
    expect(key).toMatch(/^stw_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const id = key.split("_")[1] as string;
    const response = await fetch(`${steward.url}/v1/users/${sub}/access-token`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);

    const listed = (await steward_("api-keys", "list")).stdout;
    expect(listed).toContain(`${id}\tnightly-jobs\ttokens:read`);
    expect(listed).not.toContain(key.split("_")[2] as string);

    await steward_("api-keys", "revoke", id);
    const again = (await steward_("api-keys", "list")).stdout;
    expect(again).toMatch(new RegExp(`${id}\\tnightly-jobs\\ttokens:read\\t\\S+\\t\\S+\\t\\d{4}-`));
  }, 120_000);

  it("users list/show, token and users revoke", async () => {
    const { serverAuthCode, sub } = await sdkSignIn(steward.google, {
      email: "ops@example.com",
      scopes: [APPDATA],
    });
    await postCode(steward.url, { code: serverAuthCode });
    expect((await steward_("users", "list")).stdout).toMatch(
      new RegExp(`${sub}\\tops@example.com\\tactive`),
    );
    const shown = JSON.parse((await steward_("users", "show", sub)).stdout);
    expect(shown).toMatchObject({
      sub,
      email: "ops@example.com",
      credential: { status: "active" },
    });
    expect(JSON.stringify(shown)).not.toContain("ya29.");
    expect((await steward_("token", sub, "--scope", APPDATA)).stdout.trim()).toMatch(/^ya29\./);
    await expect(
      steward_("token", sub, "--scope", "https://www.googleapis.com/auth/drive"),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("did not grant"),
    });
    expect((await steward_("users", "revoke", sub)).stdout).toContain(`revoked ${sub} at Google`);
    await expect(steward_("token", sub)).rejects.toMatchObject({
      stderr: expect.stringContaining("sign in again"),
    });
  }, 120_000);

  it("users revoke of an unknown sub fails, and records no revocation", async () => {
    await expect(steward_("users", "revoke", "no-such-sub")).rejects.toMatchObject({
      code: 1,
      stdout: "",
      stderr: expect.stringContaining("no user with sub no-such-sub"),
    });
    expect(await steward.service.vault.store.listAuditEvents({ sub: "no-such-sub" })).toEqual([]);
  }, 120_000);
});
