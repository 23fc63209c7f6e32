// A `steward` command run from source in a child process, as the CLI tests and the multi-process
// job tests start it: node itself with tsx as a loader (no npx in between), so SIGTERM reaches it.
import { type ChildProcess, spawn } from "node:child_process";

export interface CliProcess {
  readonly child: ChildProcess;
  /** The exit code, once it has exited. */
  readonly exited: Promise<number | null>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Settles once stdout holds `text`; rejects if it exits first or `timeoutMs` passes. */
  printed(text: string, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "packages/steward/test/cli/support/run-cli.ts", ...args],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  let stdout = "";
  let stderr = "";
  const waiting = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const check of waiting) check();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const output = () => ({ stdout, stderr });
  const printed = (text: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        waiting.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const check = () => stdout.includes(text) && done();
      const timer = setTimeout(
        () => done(new Error(`no "${text}" within ${timeoutMs} ms: ${JSON.stringify(output())}`)),
        timeoutMs,
      );
      waiting.add(check);
      check();
      void exited.then((code) =>
        done(new Error(`exited ${code} before printing "${text}": ${JSON.stringify(output())}`)),
      );
    });
  return { child, exited, output, printed };
}

/** Kills every command still running (for afterAll). */
export function killRunningClis(): void {
  for (const child of running) child.kill("SIGKILL");
}
