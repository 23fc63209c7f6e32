// Steward's own CLI (packages/steward/bin/steward.js, which runs its dist/: build it first) as
// child processes, the way an operator runs it: `steward seed`, `steward keys rotate`, `steward serve`.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/steward/bin/steward.js", import.meta.url));

/** The environment pointing Steward at a database and an emulator in its own process. */
export interface StewardTarget {
  databaseUrl: string;
  emulatorUrl: string;
  clientId: string;
  clientSecret: string;
  /** STEWARD_KEYS: the first is active. */
  keys: string;
  adminToken: string;
}

export function stewardEnv(target: StewardTarget, extra: Record<string, string> = {}) {
  return {
    ...process.env,
    DATABASE_URL: target.databaseUrl,
    STEWARD_GOOGLE: target.emulatorUrl,
    GOOGLE_CLIENT_ID: target.clientId,
    GOOGLE_CLIENT_SECRET: target.clientSecret,
    STEWARD_KEYS: target.keys,
    STEWARD_ADMIN_TOKEN: target.adminToken,
    ...extra,
  };
}

/** Runs `steward <args>` to its end; resolves with stdout, rejects with stderr on failure. */
export async function runSteward(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  const [code] = (await once(child, "close")) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`steward ${args.join(" ")} exited ${code}: ${stderr.trim()}`);
  return { stdout, stderr, seconds };
}

/** A running `steward serve`. */
export interface ServeProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `steward serve` on a free loopback port (pinned with `taskset -c core` when given)
 * and waits for it to say it listens. Logs at warn go to this process's stderr only if
 * something goes wrong before then.
 */
export async function startServe(
  env: NodeJS.ProcessEnv,
  options: { core?: number; logLevel?: string } = {},
): Promise<ServeProcess> {
  const port = await freePort();
  const node = [process.execPath, BIN, "serve", "--host", "127.0.0.1", "--port", String(port)];
  const [command, ...args] =
    options.core === undefined ? node : ["taskset", "-c", String(options.core), ...node];
  const child = spawn(command as string, args, {
    env: { ...env, STEWARD_LOG_LEVEL: options.logLevel ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  alive.add(child);
  const exited = once(child, "exit").then(() => alive.delete(child));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const lines = createInterface({ input: child.stdout });
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("steward serve did not start in 60 s")),
      60_000,
    );
    lines.on("line", (line) => {
      if (line.startsWith("Steward is listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`steward serve exited (${code}) before listening: ${stderr.trim()}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const forced = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(forced);
  };
  try {
    await listening;
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep draining stdout so a chatty child never blocks on a full pipe.
  child.stdout.resume();
  return { url, pid: child.pid as number, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Resident set size of a process, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const match = status?.match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** V8 heap in use, from Steward's own `/metrics` (prom-client's default metrics). */
export async function heapUsedBytes(serviceUrl: string): Promise<number | undefined> {
  const response = await fetch(`${serviceUrl}/metrics`).catch(() => undefined);
  if (response?.status !== 200) return undefined;
  const match = (await response.text()).match(/^steward_nodejs_heap_size_used_bytes (\S+)$/m);
  return match ? Number(match[1]) : undefined;
}

const alive = new Set<ChildProcess>();
// Never leave a service behind, whatever way the runner ends.
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});
