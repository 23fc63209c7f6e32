import type { OAuth2Client } from "google-auth-library";
import type { Logger } from "pino";

/**
 * Google APIs as the job's user. Every token it obtains is recorded in the audit log
 * (`job.token_issued`, once per attempt); the token itself never is.
 */
export interface GoogleAccess {
  /**
   * `fetch` to a Google API as the user, with refresh-and-retry and backoff (see `fetchAs`).
   * A `https://*.googleapis.com` URL is sent to the emulator in emulator mode, so job code is
   * the same against Google and the emulator. The job's `signal` is used unless `init` has one.
   *
   * @throws StewardError `url_not_allowed`, `credential_revoked`, `scope_not_granted`,
   *   `upstream_unavailable`, ...
   */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** An `OAuth2Client` for the official `@googleapis/*` clients, acting as the user. */
  authClient(): OAuth2Client;
  /**
   * A fresh access token (valid for at least 60 s) carrying `scopes` (default: the job's).
   * @throws StewardError `credential_revoked`, `scope_not_granted`, `upstream_unavailable`.
   */
  accessToken(scopes?: readonly string[]): Promise<string>;
}

/** What a job handler gets for one attempt. */
export interface JobContext<T> {
  jobId: string;
  /** The user the job acts for. */
  sub: string;
  data: T;
  google: GoogleAccess;
  /** A pino child logger bound to `jobId`, `job`, `sub` and `attempt`. */
  log: Logger;
  /** Aborted when the attempt times out or the worker stops; pass it on to what you await. */
  signal: AbortSignal;
}

/** A queue's settings, fixed by `define` for every process that enqueues or works it. */
export interface JobOptions {
  /** Retries after the first attempt for retryable failures. Default 3. */
  retryLimit?: number;
  /**
   * Base of the exponential backoff between attempts, in whole seconds: the n-th retry waits
   * between `d·2^(n-1)` and `d·2^n` seconds (pg-boss adds jitter). Default 5.
   */
  retryDelaySeconds?: number;
  /** Scopes the job needs; checked before each attempt: `scope_not_granted` fails at once. */
  scopes?: readonly string[];
  /** An attempt still running after this long is aborted and retried. Default 900 s; < 24 h. */
  timeoutSeconds?: number;
}

export type JobState = "created" | "retry" | "active" | "completed" | "cancelled" | "failed";

/** A job as stored: never a token, and the error only as a code and a public message. */
export interface JobStatus {
  id: string;
  name: string;
  sub: string;
  state: JobState;
  createdAt: Date;
  completedAt: Date | null;
  /** What the handler returned (when completed), else null. */
  output: unknown;
  /** The last failure (when retrying or failed), else null. */
  error: { code: string; message: string } | null;
}

export type JobHandler<T> = (ctx: JobContext<T>) => Promise<unknown>;

/**
 * Background jobs on behalf of users, on pg-boss in Steward's PostgreSQL.
 *
 * @example
 *   await steward.jobs.define<{ name: string }>("save-settings", async ({ google, data }) => {
 *     const res = await google.fetch("https://www.googleapis.com/drive/v3/files?spaces=appDataFolder");
 *     return { files: (await res.json()).files.length };
 *   }, { scopes: ["https://www.googleapis.com/auth/drive.appdata"] });
 *   const id = await steward.jobs.enqueue("save-settings", sub, { name: "settings.json" });
 */
export interface Jobs {
  /**
   * Defines a job: creates its queue (or updates its settings) and, once workers are started
   * in this process, works it.
   * @throws TypeError for a bad name or option, or a name already defined in this process.
   */
  define<T>(name: string, handler: JobHandler<T>, options?: JobOptions): Promise<void>;
  /**
   * Queues a job for `sub`; returns its id. With `singletonKey`, while a job of this name with
   * that key is waiting, retrying or running, its id is returned and no other job is added.
   * `data` is stored as JSON in PostgreSQL: never put a token or secret in it.
   * @throws TypeError for a bad name, sub or option.
   */
  enqueue<T>(
    name: string,
    sub: string,
    data: T,
    options?: { startAfterSeconds?: number; singletonKey?: string },
  ): Promise<string>;
  /** The job's status, or undefined when there is none with this id. */
  status(jobId: string): Promise<JobStatus | undefined>;
  /** Jobs, newest first, optionally of one user; `limit` 1 to 1000, default 100. */
  list(options?: { sub?: string; limit?: number }): Promise<JobStatus[]>;
  /** Start working (in this process) the queues defined so far and defined later. */
  startWorkers(): Promise<void>;
  /**
   * Stops fetching jobs, lets running ones finish (up to the grace period, then aborts their
   * signal; pg-boss fails what is left, for retry), and closes the connections. Idempotent.
   */
  stop(): Promise<void>;
}
