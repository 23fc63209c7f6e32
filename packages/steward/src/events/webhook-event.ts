import type { StewardEventName, StewardEvents } from "./bus.js";

/** Header names of a webhook delivery, lower case as Node presents them. */
export const WEBHOOK_HEADERS = Object.freeze({
  id: "steward-webhook-id",
  timestamp: "steward-webhook-timestamp",
  signature: "steward-webhook-signature",
});

/** A payload as it travels in JSON: dates become ISO 8601 strings. */
export type Jsonified<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] };

/**
 * The JSON body of a webhook delivery: the event bus payload under `data`, with the event's
 * id (stable across retries: deduplicate on it) and when it happened. No event carries a token.
 *
 * @example
 *   { "id": "0b6d…", "type": "credential.revoked", "createdAt": "2025-01-01T00:00:00.000Z",
 *     "data": { "sub": "1234", "reason": "invalid_grant" } }
 */
export type WebhookEvent = {
  [E in StewardEventName]: {
    id: string;
    type: E;
    createdAt: string;
    data: Jsonified<StewardEvents[E]>;
  };
}[StewardEventName];

/**
 * Every event name, checked by the compiler against {@link StewardEvents}: a new event that is
 * not listed here fails the build instead of silently never reaching webhooks.
 */
export const WEBHOOK_EVENT_NAMES: readonly StewardEventName[] = Object.freeze(
  Object.keys({
    "credential.created": true,
    "credential.refreshed": true,
    "credential.revoked": true,
    "credential.scopes_changed": true,
    "config.client_rejected": true,
    "risc.sessions_revoked": true,
    "risc.account_disabled": true,
    "risc.account_enabled": true,
    "risc.credential_change_required": true,
  } satisfies Record<StewardEventName, true>) as StewardEventName[],
);
