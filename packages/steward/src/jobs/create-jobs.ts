import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { StewardError } from "../errors.js";
import type { GoogleEndpoints } from "../google/endpoints.js";
import type { VaultStore } from "../store/index.js";
import type { TokenManager } from "../tokens/token-manager.js";
import { findJob, listJobs, pendingWithKey, type Sql, spendRetries } from "./job-queries.js";
import {
  type Definition,
  type Envelope,
  EXPIRY_MARGIN_SECONDS,
  runAttempt,
} from "./run-attempt.js";
import type { JobHandler, JobOptions, JobStatus, Jobs } from "./types.js";

export interface JobsDependencies {
  /** Steward's PostgreSQL; pg-boss keeps its tables in their own schema there. */
  connectionString: string;
  tokens: TokenManager;
  endpoints: GoogleEndpoints;
  store: VaultStore;
  logger: Logger;
  /** Work jobs in this process from the start, as {@link Jobs.startWorkers} does. Default false. */
  workers?: boolean;
  /** Jobs of one queue run at once in this process. Default 4. */
  concurrency?: number;
  /** How often an idle worker looks for jobs. Default 1 s; pg-boss's minimum is 0.5 s. */
  pollingIntervalSeconds?: number;
  /** How long `stop()` lets running jobs finish before aborting them. Default 10 000 ms. */
  stopGraceMs?: number;
  /** pg-boss's schema. Default `pgboss`. */
  schema?: string;
  /** Connections of the jobs' own pool. Default 4. */
  poolSize?: number;
}

const DEFAULTS = { retryLimit: 3, retryDelaySeconds: 5, timeoutSeconds: 900 };
const NAME = /^[\w.-]{1,100}$/;
/** PostgreSQL's `deadlock_detected`. */
const DEADLOCK = "40P01";
const SCHEMA = /^[a-z_][a-z0-9_]{0,49}$/;

/**
 * Background jobs on pg-boss, sharing Steward's PostgreSQL. pg-boss starts (creating its schema
 * on first use) when jobs are first defined, enqueued or read, so a process that never uses
 * jobs never touches its tables.
 *
 * Failures: a permanent code (`credential_revoked`, `user_not_found`, `scope_not_granted`) fails
 * the job at once; anything else is retried with exponential backoff up to `retryLimit`. See
 * docs/jobs.md.
 *
 * @throws TypeError for a bad schema, concurrency or polling interval.
 * @example
 *   const jobs = await createJobs({ connectionString, tokens, endpoints, store, logger });
 *   await jobs.define("sync", async ({ google }) => (await google.fetch(url)).status);
 *   await jobs.startWorkers();
 *   await jobs.enqueue("sync", sub, {});
 */
export async function createJobs(deps: JobsDependencies): Promise<Jobs> {
  const jobs = new PgBossJobs(deps);
  if (deps.workers) await jobs.startWorkers();
  return jobs;
}

class PgBossJobs implements Jobs {
  private readonly pool: pg.Pool;
  private readonly boss: PgBoss;
  private readonly schema: string;
  private readonly concurrency: number;
  private readonly stopGraceMs: number;
  private readonly definitions = new Map<string, Definition>();
  /** Queues known to exist, or being created, by this process. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly workerIds = new Map<string, string[]>();
  private readonly stopping = new AbortController();
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private working = false;
  private queries = 0;
  private attempts = 0;

  constructor(private readonly deps: JobsDependencies) {
    this.schema = deps.schema ?? "pgboss";
    this.concurrency = deps.concurrency ?? 4;
    this.stopGraceMs = deps.stopGraceMs ?? 10_000;
    const pollingIntervalSeconds = deps.pollingIntervalSeconds ?? 1;
    if (!SCHEMA.test(this.schema)) throw new TypeError(`schema: not a schema name: ${this.schema}`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new TypeError("concurrency: an integer of at least 1");
    }
    if (!(pollingIntervalSeconds >= 0.5)) {
      throw new TypeError("pollingIntervalSeconds: at least 0.5");
    }
    this.pool = new pg.Pool({
      connectionString: deps.connectionString,
      max: deps.poolSize ?? 4,
      application_name: "steward-jobs",
    });
    this.pool.on("error", (error: Error & { code?: string }) =>
      deps.logger.warn({ code: error.code }, "an idle jobs database connection failed"),
    );
    // A connection in use when the server goes away must not crash the process (see
    // openDatabase): its statement fails with the error, and the pool drops it on release.
    this.pool.on("connect", (client) => client.on("error", () => undefined));
    // pg-boss runs on our pool (its `db` adapter), so status, list and the singleton check
    // share it, and a statement that fails mid-transaction never poisons a pooled connection.
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => this.sql(text, values) },
      schema: this.schema,
      schedule: false,
      pollingIntervalSeconds,
      retryLimit: DEFAULTS.retryLimit,
      retryDelay: DEFAULTS.retryDelaySeconds,
      retryBackoff: true,
    });
    this.boss.on("error", (error) =>
      deps.logger.error({ message: error.message }, "pg-boss reported an error"),
    );
  }

  async define<T>(name: string, handler: JobHandler<T>, options: JobOptions = {}): Promise<void> {
    requireName(name);
    if (typeof handler !== "function") throw new TypeError("handler: a function");
    if (this.definitions.has(name)) throw new TypeError(`job ${name} is already defined`);
    const definition: Definition = {
      name,
      handler: handler as JobHandler<unknown>,
      options: withDefaults(options),
    };
    this.definitions.set(name, definition);
    try {
      await this.ensureStarted();
      const queue = {
        name,
        policy: "standard" as const,
        retryLimit: definition.options.retryLimit,
        retryDelay: definition.options.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: definition.options.timeoutSeconds + EXPIRY_MARGIN_SECONDS,
      };
      // An existing queue keeps its settings on create; they are this definition's.
      await this.createQueue(name, queue);
      await this.boss.updateQueue(name, queue);
      this.queues.set(name, Promise.resolve());
      if (this.working) await this.work(definition);
    } catch (error) {
      this.definitions.delete(name);
      throw error;
    }
  }

  async enqueue<T>(
    name: string,
    sub: string,
    data: T,
    options: { startAfterSeconds?: number; singletonKey?: string } = {},
  ): Promise<string> {
    requireName(name);
    if (typeof sub !== "string" || sub === "") throw new TypeError("sub: a non-empty string");
    const { startAfterSeconds, singletonKey } = options;
    if (startAfterSeconds !== undefined && !(startAfterSeconds >= 0)) {
      throw new TypeError("startAfterSeconds: a number of seconds, at least 0");
    }
    await this.ensureStarted();
    await this.queueExists(name);
    const envelope: Envelope = { sub, data: data ?? null };
    const sendOptions: PgBoss.SendOptions = {};
    if (startAfterSeconds !== undefined) sendOptions.startAfter = startAfterSeconds;
    const id =
      singletonKey === undefined
        ? await this.boss.send(name, envelope, sendOptions)
        : await this.sendSingleton(name, singletonKey, envelope, sendOptions);
    if (id === null)
      throw new StewardError("internal_error", { detail: `pg-boss refused ${name}` });
    for (const worker of this.workerIds.get(name) ?? []) this.boss.notifyWorker(worker);
    return id;
  }

  async status(jobId: string): Promise<JobStatus | undefined> {
    await this.ensureStarted();
    return findJob(this.sql, this.schema, jobId);
  }

  async list(options: { sub?: string; limit?: number } = {}): Promise<JobStatus[]> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new TypeError("limit: an integer from 1 to 1000");
    }
    await this.ensureStarted();
    return listJobs(this.sql, this.schema, { sub: options.sub, limit });
  }

  async startWorkers(): Promise<void> {
    if (this.working) return;
    this.working = true;
    if (this.definitions.size === 0) return; // pg-boss starts with the first definition
    await this.ensureStarted();
    for (const definition of this.definitions.values()) await this.work(definition);
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  /** Runs SQL on the jobs pool; rolls back what a failed multi-statement text left open. */
  private readonly sql: Sql = async (text, values) => {
    this.queries++;
    try {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        return await client.query(text, values);
      } catch (error) {
        // pg-boss's migrations are `BEGIN; ...; COMMIT;` in one text: an error leaves the
        // connection in an aborted transaction. Outside a transaction ROLLBACK only warns.
        await client.query("ROLLBACK").catch((rollback: Error) => {
          broken = rollback;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    } finally {
      this.queries--;
    }
  };

  private ensureStarted(): Promise<void> {
    if (this.stopped) return Promise.reject(new TypeError("jobs: already stopped"));
    this.started ??= this.boss.start().then(
      () => undefined,
      (cause: unknown) => {
        this.started = undefined;
        throw new StewardError("database_unavailable", {
          message: "The job queue could not start.",
          detail: (cause as Error).message,
          cause,
        });
      },
    );
    return this.started;
  }

  /** Enqueued here, defined (and worked) elsewhere: its settings come from that definition. */
  private queueExists(name: string): Promise<void> {
    let ready = this.queues.get(name);
    if (ready === undefined) {
      ready = this.createQueue(name).catch((error: unknown) => {
        this.queues.delete(name);
        throw error;
      });
      this.queues.set(name, ready);
    }
    return ready;
  }

  /**
   * Creates the queue unless it exists. pg-boss creates a queue's partition and attaches it in
   * one statement; two processes doing so at once can deadlock, and PostgreSQL then aborts one
   * of them, which is simply tried again.
   */
  private async createQueue(name: string, settings?: PgBoss.Queue): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if ((await this.boss.getQueue(name)) === null) await this.boss.createQueue(name, settings);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== DEADLOCK || attempt >= 5) throw error;
        await sleep(50 * attempt);
      }
    }
  }

  /** `concurrency` pg-boss workers for the queue, each taking one job at a time. */
  private async work(definition: Definition): Promise<void> {
    // `define` and `startWorkers` may both get here for one job when they overlap.
    if (this.workerIds.has(definition.name)) return;
    const ids: string[] = [];
    this.workerIds.set(definition.name, ids);
    for (let i = 0; i < this.concurrency; i++) {
      const worker: { id?: string } = {};
      worker.id = await this.boss.work<Envelope>(
        definition.name,
        { batchSize: 1, includeMetadata: true },
        async ([job]) => {
          if (job === undefined) return undefined;
          this.attempts++;
          try {
            return await runAttempt(definition, job, {
              ...this.deps,
              stopping: this.stopping.signal,
              spendRetries: (jobId) => spendRetries(this.sql, this.schema, definition.name, jobId),
            });
          } finally {
            this.attempts--;
            // A worker that found a job asks again at once instead of sleeping a poll interval.
            if (worker.id !== undefined) this.boss.notifyWorker(worker.id);
          }
        },
      );
      ids.push(worker.id);
    }
  }

  /** One pending job per key: the check and the insert hold a transaction lock on the key. */
  private async sendSingleton(
    name: string,
    key: string,
    envelope: Envelope,
    options: PgBoss.SendOptions,
  ): Promise<string | null> {
    const client = await this.pool.connect();
    const sql: Sql = (text, values) => client.query(text, values);
    try {
      await sql("BEGIN");
      await sql("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
        `steward.jobs.${this.schema}.${name}.${key}`,
      ]);
      const id =
        (await pendingWithKey(sql, this.schema, name, key)) ??
        (await this.boss.send(name, envelope, {
          ...options,
          singletonKey: key,
          db: { executeSql: sql },
        }));
      await sql("COMMIT");
      return id;
    } catch (error) {
      await sql("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async shutdown(): Promise<void> {
    if (this.started !== undefined && (await this.started.then(() => true).catch(() => false))) {
      // Running jobs get the grace period; then their signal aborts, and pg-boss fails what is
      // still running (for retry) shortly after.
      const abort = setTimeout(() => this.stopping.abort(), this.stopGraceMs);
      try {
        await this.boss.stop({ graceful: true, wait: true, timeout: this.stopGraceMs + 2000 });
      } finally {
        clearTimeout(abort);
      }
      await this.drain();
    }
    await this.pool.end();
  }

  /**
   * pg-boss's stop does not wait for a worker caught between fetching a job and starting it,
   * nor for the completion it records after a handler returns: wait until nothing is left.
   */
  private async drain(): Promise<void> {
    const deadline = Date.now() + 5000;
    let quiet = 0;
    while (quiet < 3 && Date.now() < deadline) {
      quiet = this.queries === 0 && this.attempts === 0 ? quiet + 1 : 0;
      await sleep(20);
    }
  }
}

function requireName(name: string): void {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`name: letters, digits, '_', '-' or '.', at most 100: ${String(name)}`);
  }
}

function withDefaults(options: JobOptions): Definition["options"] {
  const merged = { ...DEFAULTS, ...stripUndefined(options) };
  if (!Number.isInteger(merged.retryLimit) || merged.retryLimit < 0) {
    throw new TypeError("retryLimit: an integer of at least 0");
  }
  if (!Number.isInteger(merged.retryDelaySeconds) || merged.retryDelaySeconds < 1) {
    throw new TypeError("retryDelaySeconds: whole seconds, at least 1");
  }
  // pg-boss refuses an expiry of 24 hours or more.
  if (!(merged.timeoutSeconds >= 1 && merged.timeoutSeconds + EXPIRY_MARGIN_SECONDS < 86_400)) {
    throw new TypeError("timeoutSeconds: from 1 s to just under 24 hours");
  }
  if (options.scopes !== undefined && !Array.isArray(options.scopes)) {
    throw new TypeError("scopes: an array of scope strings");
  }
  return { ...merged, scopes: options.scopes ? [...options.scopes] : undefined };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
