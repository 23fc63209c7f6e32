import { randomUUID } from "node:crypto";

/** One SET on its way to a receiver, as `GET /emulator/risc/deliveries` shows it. */
export interface RiscDelivery {
  readonly id: string;
  readonly jti: string;
  /** The full event-type URI. */
  readonly eventType: string;
  readonly audience: string;
  readonly receiverUrl: string;
  /** The signed SET itself (a test tool shows it, so a test can replay it). */
  readonly set: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  /** HTTP status of the last attempt; null when it got no answer. */
  lastStatus: number | null;
  /** Why the last attempt got no answer (connection refused, timeout). */
  lastError: string | null;
  readonly createdAt: string;
  deliveredAt: string | null;
  /** When the next attempt is due, while pending. */
  nextAttemptAt: string | null;
  /** The wait scheduled before each redelivery so far: the backoff, for tests to read. */
  readonly retryDelaysMs: number[];
}

export interface RedeliveryPolicy {
  /** Wait before the second attempt; each later wait doubles. */
  readonly riscRetryBaseMs: number;
  /** Attempts in all before a delivery is given up as `failed`. */
  readonly riscMaxAttempts: number;
}

export interface NewDelivery {
  readonly set: string;
  readonly jti: string;
  readonly eventType: string;
  readonly audience: string;
  readonly receiverUrl: string;
}

const ATTEMPT_TIMEOUT_MS = 10_000;
const MAX_DELAY_MS = 3_600_000;
const MAX_KEPT = 10_000;

/**
 * The emulator's in-memory push queue: each SET is POSTed as `application/secevent+jwt` until
 * the receiver answers 2xx, waiting `riscRetryBaseMs * 2^(n-1)` after the n-th failure, up to
 * `riscMaxAttempts` attempts (Google redelivers, with limited retries). A redirect is a failure:
 * the SET goes to the URL registered, nowhere else.
 */
export class RiscDeliveries {
  private readonly deliveries = new Map<string, RiscDelivery>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly closing = new AbortController();

  constructor(private readonly policy: () => RedeliveryPolicy) {}

  /** Queues a SET and makes the first attempt at once. */
  enqueue(input: NewDelivery): RiscDelivery {
    const delivery: RiscDelivery = {
      id: randomUUID(),
      ...input,
      status: "pending",
      attempts: 0,
      lastStatus: null,
      lastError: null,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      nextAttemptAt: new Date().toISOString(),
      retryDelaysMs: [],
    };
    this.deliveries.set(delivery.id, delivery);
    this.forgetOldest();
    this.schedule(delivery, 0);
    return delivery;
  }

  /** Sends a delivery's SET again (same `jti`), as a fresh delivery; undefined when unknown. */
  redeliver(id: string): RiscDelivery | undefined {
    const previous = this.deliveries.get(id);
    if (previous === undefined) return undefined;
    const { set, jti, eventType, audience, receiverUrl } = previous;
    return this.enqueue({ set, jti, eventType, audience, receiverUrl });
  }

  list(): RiscDelivery[] {
    return [...this.deliveries.values()];
  }

  get(id: string): RiscDelivery | undefined {
    return this.deliveries.get(id);
  }

  /** Stops every pending attempt (the emulator is closing). */
  close(): void {
    this.closing.abort();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(delivery: RiscDelivery, delayMs: number): void {
    delivery.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    const timer = setTimeout(() => {
      this.timers.delete(delivery.id);
      void this.attempt(delivery);
    }, delayMs);
    timer.unref();
    this.timers.set(delivery.id, timer);
  }

  private async attempt(delivery: RiscDelivery): Promise<void> {
    if (this.closing.signal.aborted) return;
    delivery.attempts += 1;
    try {
      const response = await fetch(delivery.receiverUrl, {
        method: "POST",
        headers: { "content-type": "application/secevent+jwt", accept: "application/json" },
        body: delivery.set,
        redirect: "manual",
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
      delivery.lastStatus = response.status;
      delivery.lastError = null;
    } catch (error) {
      if (this.closing.signal.aborted) return;
      delivery.lastStatus = null;
      delivery.lastError = describe(error);
    }
    const ok =
      delivery.lastStatus !== null && delivery.lastStatus >= 200 && delivery.lastStatus < 300;
    if (ok) {
      delivery.status = "delivered";
      delivery.deliveredAt = new Date().toISOString();
      delivery.nextAttemptAt = null;
      return;
    }
    const { riscRetryBaseMs, riscMaxAttempts } = this.policy();
    if (delivery.attempts >= riscMaxAttempts) {
      delivery.status = "failed";
      delivery.nextAttemptAt = null;
      return;
    }
    const delayMs = Math.min(MAX_DELAY_MS, riscRetryBaseMs * 2 ** (delivery.attempts - 1));
    delivery.retryDelaysMs.push(delayMs);
    this.schedule(delivery, delayMs);
  }

  /** Keeps memory bounded in a long-running emulator: finished deliveries go first. */
  private forgetOldest(): void {
    if (this.deliveries.size <= MAX_KEPT) return;
    for (const [id, delivery] of this.deliveries) {
      if (delivery.status !== "pending") {
        this.deliveries.delete(id);
        return;
      }
    }
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return error instanceof Error ? error.name : "Error";
}
