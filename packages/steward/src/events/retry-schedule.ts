/** When to try a failed webhook delivery again. */
export interface RetrySchedule {
  /** The delay after the first failure, before jitter, in ms. Default 5 000. */
  readonly baseMs: number;
  /** No delay is longer than this, in ms. Default 600 000 (10 minutes). */
  readonly capMs: number;
  /** Attempts in all; the row is kept as dead after the last one fails. Default 20. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = Object.freeze({
  baseMs: 5_000,
  capMs: 600_000,
  maxAttempts: 20,
});

/**
 * The delay before the next attempt after `failedAttempts` failures (1 for the first):
 * exponential, capped, with "equal jitter" (between half and all of the step). Jitter spreads
 * the retries of many events that failed together, as when a receiver comes back up; keeping
 * half the step keeps the backoff a real one.
 *
 * @example
 *   retryDelayMs(3, DEFAULT_RETRY_SCHEDULE); // 10 000 to 20 000
 */
export function retryDelayMs(
  failedAttempts: number,
  schedule: RetrySchedule,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const stepMs = Math.min(schedule.capMs, schedule.baseMs * 2 ** exponent);
  return Math.round(stepMs / 2 + (random() * stepMs) / 2);
}

/**
 * Checks a schedule a caller built.
 *
 * @throws TypeError naming the bad field.
 */
export function checkRetrySchedule(schedule: RetrySchedule): RetrySchedule {
  for (const field of ["baseMs", "capMs", "maxAttempts"] as const) {
    const value = schedule[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`retry.${field} must be a positive integer`);
    }
  }
  if (schedule.capMs < schedule.baseMs) throw new TypeError("retry.capMs is below retry.baseMs");
  return schedule;
}
