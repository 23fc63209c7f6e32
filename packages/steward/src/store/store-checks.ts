/** Argument checks of the store: a caller's mistake is a TypeError, never a StewardError. */

/** Reason codes are short identifiers; this keeps a token or a response body out of them. */
export const REASON_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The longest `sub` Steward takes anywhere: Google's own limit (255 ASCII characters). */
export const SUB_MAX_LENGTH = 255;

/** Whether the store can hold `sub`: 1 to 255 characters, no NUL (PostgreSQL text holds none). */
export function isStorableSub(sub: unknown): sub is string {
  return (
    typeof sub === "string" &&
    sub.length > 0 &&
    sub.length <= SUB_MAX_LENGTH &&
    !sub.includes("\u0000")
  );
}

export function checkSub(sub: unknown): asserts sub is string {
  if (!isStorableSub(sub)) {
    throw new TypeError("sub must be a non-empty string of at most 255 characters, without NUL");
  }
}

export function checkReason(reason: unknown): void {
  if (typeof reason !== "string" || !REASON_CODE.test(reason)) {
    throw new TypeError("a reason is a short code such as 'invalid_grant'");
  }
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new TypeError("limit must be an integer from 1 to 1000");
  }
  return limit;
}
