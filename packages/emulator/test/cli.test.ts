// The package's own command, `steward-emulator`, as `npx steward-emulator` runs it: the bin and
// the compiled package, alone (it needs nothing of Steward).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const packageDir = new URL("..", import.meta.url).pathname;

beforeAll(async () => {
  await promisify(execFile)("npx", ["tsc", "-p", "tsconfig.json"], { cwd: packageDir });
}, 120_000);

function run(args: string[]): ChildProcess {
  return spawn(process.execPath, ["bin/steward-emulator.js", ...args], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Resolves with everything printed once `pattern` matches it; rejects if the command exits. */
function printed(child: ChildProcess, pattern: RegExp): Promise<string> {
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) resolve(output);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("steward-emulator", () => {
  it("prints its URL, serves Google's endpoints there, and exits 0 on SIGTERM", async () => {
    const child = run(["--port", "0"]);
    const output = await printed(child, /control API: +\S+/);
    const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] as string;
    expect(output).toContain("emulator state:     in memory, lost on exit");
    const discovery = await (await fetch(`${url}/.well-known/openid-configuration`)).json();
    expect(discovery.token_endpoint).toBe(`${url}/token`);
    const exit = exited(child);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("refuses a bad port, naming it, with exit code 1", async () => {
    const child = run(["--port", "70000"]);
    const [output, code] = await Promise.all([
      printed(child, /port/).catch((error: Error) => error.message),
      exited(child),
    ]);
    expect(code).toBe(1);
    expect(output).toContain("--port 70000: a port is a number from 0 to 65535");
  });

  it("--help lists its options", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["bin/steward-emulator.js", "--help"],
      { cwd: packageDir },
    );
    expect(stdout).toContain("Usage: steward-emulator [options]");
    expect(stdout).toContain("--write-client-secret <file>");
  });
});
