import { isStewardError } from "../errors.js";

/** A job's failure as stored by pg-boss and shown by `status`: a code and a public message. */
export interface JobError {
  readonly code: string;
  readonly message: string;
}

/**
 * Codes that no retry can cure: the grant is dead, the user is gone, or the user never granted
 * a scope the job needs. A job failing with one is failed at once.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  "credential_revoked",
  "user_not_found",
  "scope_not_granted",
]);

/** Failure codes of the job machinery itself (the rest are StewardError codes). */
export const JOB_CODES = {
  /** The handler threw something that is not a StewardError. */
  failed: "job_failed",
  /** The attempt ran past `timeoutSeconds`. */
  timeout: "job_timeout",
  /** The worker stopped while the attempt ran. */
  stopped: "worker_stopped",
  /** pg-boss found the job active past its expiry (a worker died mid-attempt). */
  expired: "job_expired",
} as const;

const MAX_MESSAGE_LENGTH = 500;

/** Raised by the runner when the attempt's signal aborts. */
export class JobInterrupted extends Error {
  constructor(readonly code: string) {
    super(code === JOB_CODES.timeout ? "The job ran past its timeout." : "The worker stopped.");
  }
}

/**
 * What to store for a failed attempt, and whether to retry. A StewardError keeps its code and
 * public message (its private detail and cause stay in the logs); anything else becomes
 * `job_failed` with its message. Never a stack.
 */
export function classifyFailure(error: unknown): JobError & { permanent: boolean } {
  if (isStewardError(error)) {
    return { code: error.code, message: error.message, permanent: PERMANENT_CODES.has(error.code) };
  }
  if (error instanceof JobInterrupted) {
    return { code: error.code, message: error.message, permanent: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: JOB_CODES.failed, message: truncate(message), permanent: false };
}

/**
 * Reads back a failure pg-boss stored: ours are `{code, message}`; pg-boss writes its own on
 * expiry (`{value: {message}}`) and on shutdown (`{value: "..."}`).
 */
export function storedError(output: unknown): JobError {
  const value = (output as { value?: unknown } | null)?.value;
  if (isJobError(output)) return { code: output.code, message: output.message };
  if (typeof value === "string") return { code: JOB_CODES.stopped, message: truncate(value) };
  const message = (value as { message?: unknown } | undefined)?.message;
  if (typeof message === "string" && message.includes("timeout")) {
    return { code: JOB_CODES.expired, message };
  }
  return { code: JOB_CODES.failed, message: "The job failed." };
}

function isJobError(value: unknown): value is JobError {
  const candidate = value as Partial<JobError> | null;
  return typeof candidate?.code === "string" && typeof candidate.message === "string";
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}
