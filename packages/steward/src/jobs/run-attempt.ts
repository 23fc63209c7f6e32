import type { Logger } from "pino";
import { StewardError } from "../errors.js";
import type { GoogleEndpoints } from "../google/endpoints.js";
import { missingScopes } from "../shared/index.js";
import type { VaultStore } from "../store/index.js";
import type { AccessToken, TokenManager } from "../tokens/token-manager.js";
import { classifyFailure, JOB_CODES, type JobError, JobInterrupted } from "./failure.js";
import { attemptAccess } from "./google-access.js";
import type { JobHandler, JobOptions } from "./types.js";

/** What pg-boss stores as a job's data: the user, and the caller's data. */
export interface Envelope {
  sub: string;
  data: unknown;
}

export interface Definition {
  readonly name: string;
  /** Typed by `define`'s caller; the data is whatever was enqueued. */
  readonly handler: JobHandler<unknown>;
  readonly options: Required<Omit<JobOptions, "scopes">> & Pick<JobOptions, "scopes">;
}

/** pg-boss expires an active job this long after our own timeout would have aborted it. */
export const EXPIRY_MARGIN_SECONDS = 60;

/** One attempt of one job, as pg-boss hands it over. */
export interface Attempt {
  readonly id: string;
  readonly data: Envelope;
  /** Attempts before this one. */
  readonly retryCount: number;
  /** When pg-boss gives the attempt up, fixed when the job was queued. */
  readonly expireInSeconds: number | string;
}

export interface AttemptDependencies {
  tokens: TokenManager;
  endpoints: GoogleEndpoints;
  store: VaultStore;
  logger: Logger;
  /** Aborted when the worker's grace period on stop is over. */
  stopping: AbortSignal;
  /** Makes the failure about to be recorded final (no retry). */
  spendRetries(jobId: string): Promise<void>;
}

/**
 * Runs one attempt: checks the user's grant and scopes, then calls the handler with a `google`
 * that audits token issuance, under the job's timeout.
 *
 * @returns `{ output }`, which pg-boss stores as the completed job's output.
 * @throws a plain `{ code, message }` (see {@link JobError}) for pg-boss to store as the failure:
 *   pg-boss serializes an Error with its stack, and a stack does not belong in the job table.
 *   Before a permanent failure, the job's retries are spent, so pg-boss fails it for good.
 */
export async function runAttempt(
  definition: Definition,
  attempt: Attempt,
  deps: AttemptDependencies,
): Promise<{ output: unknown }> {
  const { name, options } = definition;
  const { sub, data } = attempt.data;
  const log = deps.logger.child({
    jobId: attempt.id,
    job: name,
    sub,
    attempt: attempt.retryCount + 1,
  });
  const controller = new AbortController();
  // A job queued under an older definition keeps that one's expiry: the handler must stop
  // before pg-boss gives the attempt up and a retry runs beside it.
  const timeoutSeconds = Math.max(
    1,
    // pg-boss reads it as PostgreSQL's numeric, which node-postgres gives as text.
    Math.min(options.timeoutSeconds, Number(attempt.expireInSeconds) - EXPIRY_MARGIN_SECONDS),
  );
  const timer = setTimeout(
    () => controller.abort(new JobInterrupted(JOB_CODES.timeout)),
    timeoutSeconds * 1000,
  );
  const onStop = () => controller.abort(new JobInterrupted(JOB_CODES.stopped));
  deps.stopping.addEventListener("abort", onStop, { once: true });
  if (deps.stopping.aborted) onStop();
  const access = attemptAccess({
    tokens: deps.tokens,
    endpoints: deps.endpoints,
    sub,
    scopes: options.scopes,
    signal: controller.signal,
    onToken: auditOnce(deps.store, { jobId: attempt.id, name, sub, attempt: attempt.retryCount }),
  });
  const startedAt = Date.now();
  try {
    await requireLiveGrant(deps.store, sub, options.scopes);
    const work = Promise.resolve().then(() =>
      definition.handler({
        jobId: attempt.id,
        sub,
        data,
        google: access.google,
        log,
        signal: controller.signal,
      }),
    );
    const output = await Promise.race([work, rejectOnAbort(controller.signal)]);
    log.info({ durationMs: Date.now() - startedAt }, "job completed");
    return { output: output ?? null };
  } catch (error) {
    // A handler may wrap the token path's error in its own; the grant is dead all the same.
    const failure = classifyFailure(access.permanentError() ?? error);
    log.warn(
      {
        code: failure.code,
        message: failure.message,
        permanent: failure.permanent,
        durationMs: Date.now() - startedAt,
        detail: error instanceof StewardError ? error.detail : undefined,
      },
      failure.permanent ? "job failed for good" : "job attempt failed",
    );
    if (failure.permanent) await deps.spendRetries(attempt.id);
    const stored: JobError = { code: failure.code, message: failure.message };
    throw stored;
  } finally {
    clearTimeout(timer);
    deps.stopping.removeEventListener("abort", onStop);
  }
}

/**
 * Fails fast, before the handler runs, for a user who is gone, whose grant is dead, or who did
 * not grant a scope the job needs. Reads the stored state only: no token is obtained here.
 */
async function requireLiveGrant(
  store: VaultStore,
  sub: string,
  scopes: readonly string[] | undefined,
): Promise<void> {
  const credential = (await store.getUser(sub))?.credential;
  if (credential === undefined) {
    throw new StewardError("user_not_found", { detail: `no credential for sub ${sub}` });
  }
  if (credential.status !== "active") {
    throw new StewardError("credential_revoked", {
      detail: `sub ${sub}: ${credential.status} (${credential.revokedReason ?? "no reason"})`,
    });
  }
  const missing = missingScopes(scopes ?? [], credential.grantedScopes);
  if (missing.length > 0) {
    throw new StewardError("scope_not_granted", {
      message: `The user did not grant: ${missing.join(" ")}`,
    });
  }
}

/** Records `job.token_issued` before the first token of the attempt is handed over. */
function auditOnce(
  store: VaultStore,
  job: { jobId: string; name: string; sub: string; attempt: number },
): (token: AccessToken) => Promise<void> {
  let recorded: Promise<void> | undefined;
  return (token) => {
    recorded ??= store
      .appendAuditEvent({
        type: "job.token_issued",
        sub: job.sub,
        actor: `job:${job.name}`,
        data: { jobId: job.jobId, job: job.name, scopes: token.scopes, attempt: job.attempt + 1 },
      })
      .then(
        () => undefined,
        (error: unknown) => {
          recorded = undefined; // not recorded: the next token asks again
          throw error;
        },
      );
    return recorded;
  };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
