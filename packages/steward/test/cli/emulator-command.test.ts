import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The package `steward` (its bin), in the repository whose `npm run build` builds every package. */
const root = new URL("../..", import.meta.url).pathname;
const repository = new URL("../../../..", import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  // The bin runs the compiled CLI and emulator package, as `npx steward` does after `npm install`.
  await promisify(execFile)("npm", ["run", "build"], { cwd: repository });
  dir = await mkdtemp(join(tmpdir(), "steward-cli-"));
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Starts the `steward` bin and resolves with the first URL it prints. */
function startCli(
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ["bin/steward.js", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

/** Waits until the CLI has printed a line matching `pattern`. */
async function waitForOutput(output: () => string, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(output()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(output()).toMatch(pattern);
}

async function postJson(url: string, body: unknown): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return response.json();
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("steward emulator", () => {
  it("serves the emulator and writes a client_secret.json shaped like Google's", async () => {
    const file = join(dir, "client_secret.json");
    const { child, url } = await startCli([
      "emulator",
      "--port",
      "0",
      "--write-client-secret",
      file,
    ]);
    try {
      const discovery = await (await fetch(`${url}/.well-known/openid-configuration`)).json();
      expect(discovery.token_endpoint).toBe(`${url}/token`);
      // Poll briefly: the file is written right after the listen line.
      for (let i = 0; i < 50 && !(await stat(file).catch(() => undefined)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const secret = JSON.parse(await readFile(file, "utf8"));
      expect(Object.keys(secret)).toEqual(["web"]);
      expect(Object.keys(secret.web).sort()).toEqual(
        [
          "auth_provider_x509_cert_url",
          "auth_uri",
          "client_id",
          "client_secret",
          "javascript_origins",
          "project_id",
          "redirect_uris",
          "token_uri",
        ].sort(),
      );
      expect(secret.web.token_uri).toBe(`${url}/token`);
      expect(secret.web.auth_provider_x509_cert_url).toBe(`${url}/oauth2/v1/certs`);
      expect(secret.web.client_id).toMatch(/^\d{12}-[0-9a-f]{32}\.apps\.googleusercontent\.com$/);
      expect(secret.web.client_secret).toMatch(/^GOCSPX-/);
      expect((await stat(file)).mode & 0o077).toBe(0);
      const clients = await (await fetch(`${url}/emulator/clients`)).json();
      expect(clients.clients[0].clientSecret).toBe(secret.web.client_secret);
    } finally {
      expect(await stopped(child)).toBe(0);
    }
  });

  it("says its state is in memory without --data-dir", async () => {
    const { child, output } = await startCli(["emulator", "--port", "0"]);
    try {
      await waitForOutput(output, /emulator state: +in memory, lost on exit/);
    } finally {
      expect(await stopped(child)).toBe(0);
    }
  });

  it("with --data-dir keeps users, grants and its client across a restart, and says so", async () => {
    const dataDir = join(dir, "emulator-state");
    const first = await startCli(["emulator", "--port", "0", "--data-dir", dataDir]);
    let client: { clientId: string; clientSecret: string };
    let refreshToken: string;
    try {
      await waitForOutput(first.output, new RegExp(`emulator state: +kept in ${dataDir}`));
      client = (await (await fetch(`${first.url}/emulator/clients`)).json()).clients[0];
      const signIn = await postJson(`${first.url}/emulator/sign-in`, {
        clientId: client.clientId,
        email: "cli-kept@example.com",
      });
      const exchanged = await (
        await fetch(`${first.url}/token`, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "authorization_code",
            code: signIn.serverAuthCode,
            client_id: client.clientId,
            client_secret: client.clientSecret,
            redirect_uri: "",
          }),
        })
      ).json();
      refreshToken = exchanged.refresh_token;
      expect(refreshToken).toMatch(/^1\/\/0/);
    } finally {
      // SIGTERM: the state is saved on the way out.
      expect(await stopped(first.child)).toBe(0);
    }
    expect((await stat(join(dataDir, "state.json"))).mode & 0o077).toBe(0);

    const second = await startCli(["emulator", "--port", "0", "--data-dir", dataDir]);
    try {
      const clients = (await (await fetch(`${second.url}/emulator/clients`)).json()).clients;
      expect(clients[0]).toMatchObject({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
      });
      const users = (await (await fetch(`${second.url}/emulator/users`)).json()).users;
      expect(users.map((user: { email: string }) => user.email)).toEqual(["cli-kept@example.com"]);
      const refreshed = await fetch(`${second.url}/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: client.clientId,
          client_secret: client.clientSecret,
        }),
      });
      expect(refreshed.status).toBe(200);
    } finally {
      expect(await stopped(second.child)).toBe(0);
    }
  });

  it("refuses a damaged --data-dir state file, naming it, and exits 1", async () => {
    const dataDir = await mkdtemp(join(dir, "damaged-"));
    await writeFile(join(dataDir, "state.json"), "not json");
    const run = promisify(execFile)(
      process.execPath,
      ["bin/steward.js", "emulator", "--port", "0", "--data-dir", dataDir],
      { cwd: root },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`The emulator state file ${join(dataDir, "state.json")}`),
    });
  });

  it("runs as `npx steward` and refuses a bad port with a clear message", async () => {
    const run = promisify(execFile)("npx", ["steward", "emulator", "--port", "http"], {
      cwd: root,
    });
    await expect(run).rejects.toMatchObject({
      stderr: expect.stringContaining("a port is a number"),
    });
    // npx resolves the bin through npm: slow on a loaded machine.
  }, 120_000);
});

describe("stopOnSignal", () => {
  it("exits 1 with the error's message when stopping fails, not 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/cli/support/stop-fails.ts"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("running") && resolve());
      child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    expect(await stopped(child)).toBe(1);
    expect(stderr).toContain("the listener would not close");
  });
});
