import { createHmac, timingSafeEqual } from "node:crypto";
import { StewardError } from "../errors.js";
import { WEBHOOK_HEADERS, type WebhookEvent } from "./webhook-event.js";

/** Headers as `fetch` gives them, or as Node's `req.headers` does. */
export type WebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const SCHEME = "v1";

/**
 * The `Steward-Webhook-Signature` value for a body sent at `timestampSeconds`:
 * `v1=` and the hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
 * `${timestampSeconds}.${body}` (the body's exact bytes).
 *
 * @example
 *   signWebhook(secret, 1735689600, '{"id":"…"}'); // "v1=5257a869…"
 */
export function signWebhook(
  secret: string,
  timestampSeconds: number,
  body: string | Uint8Array,
): string {
  return `${SCHEME}=${hmac(secret, String(timestampSeconds), body).toString("hex")}`;
}

/**
 * Checks a webhook delivery as a receiver must before trusting it: the signature over the raw
 * body (as received, before any JSON parsing) and a timestamp within `toleranceSeconds` of now,
 * which bounds replays; then parses the body. Compares in constant time. The signature header
 * may list several `v1=` values (space or comma separated); one match suffices.
 *
 * @returns the event; deduplicate on its `id`, since delivery is at least once.
 * @throws StewardError `webhook_signature_invalid` (status 401) when a header is missing or
 *   malformed, the timestamp is too old or too far ahead, or no signature matches; the detail
 *   says which. `invalid_request` when a correctly signed body is not JSON.
 * @example
 *   // Fastify, with the raw body kept: addContentTypeParser(..., { parseAs: "string" }, ...)
 *   const event = verifyWebhookSignature(process.env.STEWARD_WEBHOOK_SECRET, req.headers, rawBody);
 *   if (event.type === "credential.revoked") await forget(event.data.sub);
 */
export function verifyWebhookSignature(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError("toleranceSeconds must be a non-negative number");
  }
  if (typeof secret !== "string" || secret === "") throw new TypeError("secret is empty");
  const timestampText = header(headers, WEBHOOK_HEADERS.timestamp);
  if (timestampText === undefined || !/^\d{1,12}$/.test(timestampText)) {
    throw invalid("the timestamp header is missing or not unix seconds");
  }
  const signatures = (header(headers, WEBHOOK_HEADERS.signature) ?? "")
    .split(/[\s,]+/)
    .filter((item) => item.startsWith(`${SCHEME}=`))
    .map((item) => Buffer.from(item.slice(SCHEME.length + 1), "hex"));
  if (signatures.length === 0) throw invalid("the signature header has no v1 signature");
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  if (Math.abs(nowSeconds - Number(timestampText)) > toleranceSeconds) {
    throw invalid("the timestamp is outside the tolerance");
  }
  const expected = hmac(secret, timestampText, rawBody);
  const matches = signatures.some(
    (candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected),
  );
  if (!matches) throw invalid("no signature matches");
  try {
    return JSON.parse(Buffer.from(rawBody).toString("utf8")) as WebhookEvent;
  } catch (cause) {
    throw new StewardError("invalid_request", { detail: "the webhook body is not JSON", cause });
  }
}

function hmac(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === "string" ? value : value.join(",");
  }
  return undefined;
}

function invalid(detail: string): StewardError {
  return new StewardError("webhook_signature_invalid", { detail });
}
