import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  // The bin runs the compiled CLI, as `npx steward` does after `npm install`.
  await promisify(execFile)("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root });
  dir = await mkdtemp(join(tmpdir(), "steward-cli-"));
}, 120_000);
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
