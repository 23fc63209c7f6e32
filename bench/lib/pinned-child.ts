import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
const running = new Set<ChildProcess>();

/** A child process started by {@link startPinned}, with the first JSON line it printed. */
export interface PinnedChild<Ready> {
  readonly ready: Ready;
  readonly pid: number;
  /** Resolves when the child has exited by itself. */
  readonly exited: Promise<void>;
  /** Asks the child to exit (SIGTERM, so a --cpu-prof profile is written), then waits. */
  stop(): Promise<void>;
}

export interface PinnedChildOptions {
  /** CPU core the child may run on (`taskset -c`). */
  core: number;
  /** Script under `bench/`, e.g. `servers/emulator-server.ts`. */
  script: string;
  args?: readonly string[];
  env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: readonly string[];
  /** How long to wait for the first stdout line. */
  timeoutMs?: number;
}

/**
 * Runs a TypeScript entry point under node + tsx, pinned to one core, and waits for the first
 * line it prints on stdout, parsed as JSON. `taskset` execs node, so the pid is node's own.
 */
export async function startPinned<Ready>(options: PinnedChildOptions): Promise<PinnedChild<Ready>> {
  const child = spawn(
    "taskset",
    [
      "-c",
      String(options.core),
      process.execPath,
      "--import",
      "tsx",
      ...(options.nodeFlags ?? []),
      `${BENCH_DIR}${options.script}`,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...options.env } },
  );
  running.add(child);
  const exited = once(child, "exit").then(() => {
    running.delete(child);
  });
  try {
    const ready = await firstJsonLine<Ready>(child, options.timeoutMs ?? 30_000);
    return { ready, pid: child.pid as number, exited, stop: () => stopChild(child, exited) };
  } catch (error) {
    await stopChild(child, exited);
    throw error;
  }
}

/** Runs a pinned child to completion and returns the JSON it prints (for one-shot measurements). */
export async function runPinned<Output>(options: PinnedChildOptions): Promise<Output> {
  const child = await startPinned<Output>(options);
  await child.exited;
  return child.ready;
}

function firstJsonLine<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  const stdout = child.stdout as NodeJS.ReadableStream;
  const lines = createInterface({ input: stdout });
  return new Promise<T>((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.off("close", onExit);
      lines.close();
      // Keep draining so a chatty child never blocks on a full pipe.
      stdout.resume();
      settle();
    };
    const onExit = (code: number | null) =>
      finish(() => reject(new Error(`child exited (${code}) before printing its JSON line`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`child printed no JSON line within ${timeoutMs} ms`))),
      timeoutMs,
    );
    // "close", not "exit": stdout may still hold the line when the process has exited.
    child.once("close", onExit);
    lines.once("line", (line) =>
      finish(() => {
        try {
          resolve(JSON.parse(line) as T);
        } catch {
          reject(new Error(`child printed something other than JSON: ${line.slice(0, 200)}`));
        }
      }),
    );
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(forced);
}

// Never leave a loaded server behind, whatever way the runner ends.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill("SIGKILL");
    process.exit(130);
  });
}
