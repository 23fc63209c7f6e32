import type { Kysely } from "kysely";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import type { VaultSchema } from "../store/index.js";
import type { EventBus } from "./bus.js";
import { type OutboxClaim, WebhookOutbox } from "./outbox.js";
import {
  checkRetrySchedule,
  DEFAULT_RETRY_SCHEDULE,
  type RetrySchedule,
  retryDelayMs,
} from "./retry-schedule.js";
import { signWebhook } from "./signature.js";
import { WEBHOOK_EVENT_NAMES, WEBHOOK_HEADERS } from "./webhook-event.js";

export interface WebhookDispatcherOptions {
  readonly db: Kysely<VaultSchema>;
  /** `STEWARD_WEBHOOK_URL`: where every event is POSTed. Never logged. */
  readonly url: string;
  /** `STEWARD_WEBHOOK_SECRET`, at least 32 characters: the HMAC key. Never logged. */
  readonly secret: string;
  readonly logger?: VaultLogger | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** The clock for signature timestamps, in ms since the epoch. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Jitter's source of randomness, in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** Rows claimed (and POSTed concurrently) at a time. Default 10. */
  readonly batchSize?: number | undefined;
  /** How often to look for due rows when idle, in ms. Default 1 000. */
  readonly pollIntervalMs?: number | undefined;
  /** Give up on one POST after this long, in ms. Default 10 000. */
  readonly timeoutMs?: number | undefined;
  /** A claim's lease, in ms; must exceed `timeoutMs`. Default 60 000. */
  readonly leaseMs?: number | undefined;
  /** Backoff and giving up; see {@link DEFAULT_RETRY_SCHEDULE}. */
  readonly retry?: Partial<RetrySchedule> | undefined;
  /** Delivered rows are deleted after this long, in ms. Default 604 800 000 (7 days). */
  readonly keepDeliveredMs?: number | undefined;
}

/** Outcome of one POST: delivered, interrupted by `stop()`, or a failure's reason code. */
type Outcome = { delivered: true } | { stopped: true } | { reason: string };

const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 1_000;

/**
 * Delivers the outbox's events to one URL, signed (see signature.ts), at least once: a row is
 * marked delivered only after a 2xx answer; any other answer, a timeout or a network error
 * schedules a retry with exponential backoff and jitter, until the attempts run out and the row
 * is kept as dead. Any number of dispatchers, in any number of instances, may share the table.
 * Nothing runs until `start()`; after `stop()` no timer or request is left.
 *
 * @example
 *   const dispatcher = new WebhookDispatcher({ db, url, secret, logger });
 *   dispatcher.start();
 *   // ...
 *   await dispatcher.stop();
 */
export class WebhookDispatcher {
  readonly #outbox: WebhookOutbox;
  readonly #url: string;
  readonly #secret: string;
  readonly #logger: VaultLogger;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #retry: RetrySchedule;
  readonly #keepDeliveredMs: number;
  #loop: Promise<void> | undefined;
  #stopping = new AbortController();
  #wakeSleeper: (() => void) | undefined;
  #woken = false;
  #lastPruneMs = Number.NEGATIVE_INFINITY;

  /** @throws TypeError naming a bad option. */
  constructor(options: WebhookDispatcherOptions) {
    if (!URL.canParse(options.url)) throw new TypeError("url is not a URL");
    if (options.secret.length < 32) throw new TypeError("secret must be at least 32 characters");
    this.#outbox = new WebhookOutbox(options.db);
    this.#url = options.url;
    this.#secret = options.secret;
    this.#logger = options.logger ?? silentLogger;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#batchSize = positive("batchSize", options.batchSize ?? 10);
    this.#pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs ?? 1_000);
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs ?? 10_000);
    this.#leaseMs = positive("leaseMs", options.leaseMs ?? 60_000);
    if (this.#leaseMs <= this.#timeoutMs) throw new TypeError("leaseMs must exceed timeoutMs");
    this.#retry = checkRetrySchedule({ ...DEFAULT_RETRY_SCHEDULE, ...options.retry });
    this.#keepDeliveredMs = positive("keepDeliveredMs", options.keepDeliveredMs ?? 604_800_000);
  }

  /** Starts the loop; does nothing if it runs already. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#stopping = new AbortController();
    this.#woken = false;
    this.#loop = this.#run(this.#stopping.signal);
  }

  /** Looks for due rows now instead of at the next poll (an event was just queued). */
  wake(): void {
    if (this.#wakeSleeper !== undefined) this.#wakeSleeper();
    else this.#woken = true;
  }

  /**
   * Stops: aborts the POSTs under way and hands their rows back (due at once, for the next
   * dispatcher), then resolves once nothing is left running. Call it before closing the
   * database. A receiver may thus get an event twice, which at-least-once allows.
   */
  async stop(): Promise<void> {
    const loop = this.#loop;
    if (loop === undefined) return;
    this.#stopping.abort();
    this.wake();
    await loop;
    this.#loop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let busy = false;
      try {
        busy = await this.#tick(signal);
      } catch (error) {
        this.#logger.warn({ code: errorCode(error) }, "webhook dispatch failed; will retry");
      }
      if (signal.aborted) break;
      // A full batch means more may be due: go on at once.
      if (!busy) await this.#sleep(this.#pollIntervalMs);
    }
  }

  async #tick(signal: AbortSignal): Promise<boolean> {
    if (this.#now() - this.#lastPruneMs >= PRUNE_EVERY_MS) {
      this.#lastPruneMs = this.#now();
      await this.#outbox.pruneDelivered(this.#keepDeliveredMs, PRUNE_BATCH);
    }
    const claims = await this.#outbox.claimDue(this.#batchSize, this.#leaseMs);
    await Promise.all(claims.map((claim) => this.#attempt(claim, signal)));
    return claims.length === this.#batchSize;
  }

  async #attempt(claim: OutboxClaim, signal: AbortSignal): Promise<void> {
    const outcome: Outcome = signal.aborted ? { stopped: true } : await this.#post(claim, signal);
    const fields = { eventId: claim.eventId, type: claim.type, attempts: claim.attempts };
    try {
      if ("delivered" in outcome) {
        await this.#outbox.markDelivered(claim);
      } else if ("stopped" in outcome) {
        await this.#outbox.release(claim);
      } else if (claim.attempts >= this.#retry.maxAttempts) {
        await this.#outbox.markDead(claim, outcome.reason);
        this.#logger.error({ ...fields, reason: outcome.reason }, "webhook given up; kept as dead");
      } else {
        const retryInMs = retryDelayMs(claim.attempts, this.#retry, this.#random);
        await this.#outbox.scheduleRetry(claim, retryInMs, outcome.reason);
        this.#logger.warn({ ...fields, reason: outcome.reason, retryInMs }, "webhook failed");
      }
    } catch (error) {
      // The lease lapses and another attempt follows: at least once still holds.
      this.#logger.warn({ ...fields, code: errorCode(error) }, "webhook outbox update failed");
    }
  }

  async #post(claim: OutboxClaim, stopping: AbortSignal): Promise<Outcome> {
    const body = JSON.stringify({
      id: claim.eventId,
      type: claim.type,
      createdAt: claim.createdAt.toISOString(),
      data: claim.payload,
    });
    const timestamp = Math.floor(this.#now() / 1000);
    // One controller per POST, fed by stop() and by the timeout; listeners are removed after,
    // so the long-lived stop signal gathers none.
    const request = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, this.#timeoutMs);
    const onStop = () => request.abort();
    stopping.addEventListener("abort", onStop, { once: true });
    try {
      const response = await this.#fetch(this.#url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Steward-Webhooks/1",
          [WEBHOOK_HEADERS.id]: claim.eventId,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(this.#secret, timestamp, body),
        },
        body,
        // A redirect is a failure, not a new destination for our events.
        redirect: "manual",
        signal: request.signal,
      });
      // The answer's body is not read, let alone stored: only the status counts.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { delivered: true };
      return { reason: `http_${response.status}` };
    } catch (error) {
      if (stopping.aborted) return { stopped: true };
      if (timedOut) return { reason: "timeout" };
      return { reason: networkReason(error) };
    } finally {
      clearTimeout(timer);
      stopping.removeEventListener("abort", onStop);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeSleeper = done;
    });
  }
}

export interface WebhooksOptions extends WebhookDispatcherOptions {
  readonly events: EventBus;
}

/** Webhooks at work: a dispatcher emptying the outbox, woken by the bus. */
export interface Webhooks {
  readonly dispatcher: WebhookDispatcher;
  /** Stops listening to the bus, then stops the dispatcher. */
  stop(): Promise<void>;
}

/**
 * Starts a dispatcher for the outbox, woken by each event of `events` so that delivery does not
 * wait for the next poll. The events themselves are queued by the store, in the transaction of
 * the change they report (`openVault({ queueEvents: true })`).
 *
 * @throws TypeError naming a bad option.
 * @example
 *   const webhooks = startWebhooks({ db: vault.database.db, events, url, secret, logger });
 *   // ...
 *   await webhooks.stop(); // before the database closes
 */
export function startWebhooks(options: WebhooksOptions): Webhooks {
  const dispatcher = new WebhookDispatcher(options);
  const unsubscribes = WEBHOOK_EVENT_NAMES.map((event) =>
    options.events.on(event, () => dispatcher.wake()),
  );
  dispatcher.start();
  return {
    dispatcher,
    stop: async () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
      await dispatcher.stop();
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`${name} must be a positive integer`);
  return value;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : "unknown";
}

/** `fetch failed` carries the socket's error code in its cause: `network_econnrefused`. */
function networkReason(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === "string" && /^[A-Z0-9_]{1,32}$/.test(code)
    ? `network_${code.toLowerCase()}`
    : "network_error";
}
