import { setTimeout as sleep } from "node:timers/promises";
import { isStewardError } from "../errors.js";

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3. */
  attempts: number;
  /** Backoff before retry n is a random share of `baseDelayMs * 2^n` ("full jitter"). Default 200 ms. */
  baseDelayMs: number;
  /** No single wait is longer than this. Default 2000 ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2000,
});

/**
 * Runs `operation`, retrying only transient failures (`upstream_unavailable`: 5xx, 429,
 * timeouts, resets) with jittered exponential backoff. Everything else fails at once.
 */
export async function withRetries<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.attempts || !isStewardError(error, "upstream_unavailable")) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}
