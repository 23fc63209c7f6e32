/**
 * Google ends the refresh tokens of an app whose OAuth consent screen is in Testing
 * publishing status seven days after issue. A grant that dies that long after it was stored
 * most likely met that rule, not a user's revocation: the operator must publish the app.
 */
const TESTING_MODE_LIFE_MS = 7 * 86_400_000;
/** Refreshes happen about hourly, so the death is noticed within about an hour of it. */
const TESTING_MODE_SLACK_MS = 3_600_000;

export const TESTING_MODE_EXPIRY = "testing_mode_expiry";

/** Whether an `invalid_grant` at `nowMs` for a grant stored at `createdAt` fits the seven-day rule. */
export function looksLikeTestingModeExpiry(createdAt: Date, nowMs: number): boolean {
  return Math.abs(nowMs - createdAt.getTime() - TESTING_MODE_LIFE_MS) <= TESTING_MODE_SLACK_MS;
}

/**
 * `testing_mode_expiry` for a credential that a refresh found dead (`invalid_grant`) seven days
 * after it was stored, as the refresh itself judged it; null otherwise. What is stored tells it:
 * a revocation stamps `updatedAt`, and nothing touches a revoked credential until a new sign-in.
 */
export function likelyCauseOfRevocation(credential: {
  readonly status: string;
  readonly revokedReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}): typeof TESTING_MODE_EXPIRY | null {
  const died = credential.status === "revoked" && credential.revokedReason === "invalid_grant";
  return died && looksLikeTestingModeExpiry(credential.createdAt, credential.updatedAt.getTime())
    ? TESTING_MODE_EXPIRY
    : null;
}
