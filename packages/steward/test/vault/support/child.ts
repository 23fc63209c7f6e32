import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

/** A fixture running as a process of its own, through tsx (no npx/tsx wrapper process). */
export interface Child {
  readonly process: ChildProcess;
  /** Everything it printed so far on stdout and stderr. */
  output(): string;
  /** Resolves with the first stdout match of `pattern`, rejects if the child exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code, or 128 + n for a signal. */
  exited(): Promise<number>;
}

export function runFixture(name: string, args: string[], env: Record<string, string>): Child {
  const file = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  // `node --import tsx` runs the fixture in this very process, so a signal sent to it reaches
  // the code under test (`npx tsx` would put two wrapper processes in between).
  const child = spawn(process.execPath, ["--import", "tsx", file, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters) wake();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const wake of waiters) wake();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
  return {
    process: child,
    output: () => `${stdout}${stderr}`,
    exited: () => exit,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`timed out waiting for ${pattern}`)),
          timeoutMs,
        );
        const check = () => {
          const match = stdout.match(pattern);
          if (match) finish(undefined, match);
          else if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`the fixture exited before ${pattern}:\n${stdout}${stderr}`));
          }
        };
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(match as RegExpMatchArray);
        };
        waiters.add(check);
        check();
      }),
  };
}

/**
 * Ends a fixture still running after a failed test: SIGTERM first (it stops its PostgreSQL),
 * SIGKILL if it does not exit in time.
 */
export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 10_000);
  await child.exited();
  clearTimeout(timer);
}
