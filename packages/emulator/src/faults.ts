import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyReply, FastifyRequest } from "fastify";

/** A programmed failure for the next `times` requests to `path`. */
export interface Fault {
  path: string;
  /** Answer with this status (and `body`) instead of the real response. */
  status?: number | undefined;
  body?: unknown;
  /** Response headers to send with `status`, e.g. `Retry-After` or a redirect's `Location`. */
  headers?: Record<string, string> | undefined;
  /** Wait this long first; with no status, the real response follows. */
  latencyMs?: number | undefined;
  /** Drop the connection without an answer. */
  reset?: boolean | undefined;
  /**
   * Fail only this share (0 to 1) of the `times` requests the fault covers, spread evenly: with
   * 0.3, the 4th, 7th and 10th of every ten. Below one half, never two in a row.
   */
  share?: number | undefined;
  times: number;
}

/** Fault injection for tests: `POST /emulator/faults` programs, every request consults. */
export class Faults {
  private faults: Fault[] = [];
  /** Requests each fault with a `share` has covered so far. */
  private readonly covered = new WeakMap<Fault, number>();

  add(fault: Fault): void {
    this.faults.push(fault);
  }

  clear(): void {
    this.faults = [];
  }

  list(): readonly Fault[] {
    return this.faults;
  }

  /** Applies the first fault for this path; true when the request was answered (or dropped). */
  async apply(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const path = request.url.split("?")[0];
    const fault = this.faults.find((candidate) => candidate.path === path);
    if (fault === undefined) return false;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    if (fault.share !== undefined && !this.fails(fault, fault.share)) return false;
    if (fault.latencyMs) await sleep(fault.latencyMs);
    if (fault.reset) {
      request.raw.socket.destroy();
      reply.hijack();
      return true;
    }
    if (fault.status === undefined) return false;
    const body = fault.body ?? {
      error: { code: fault.status, message: "Injected fault.", status: "UNAVAILABLE" },
    };
    await reply
      .code(fault.status)
      .headers(fault.headers ?? {})
      .send(body);
    return true;
  }

  /** Whether this request is one of the share that fails: the nth when floor(n * share) grows. */
  private fails(fault: Fault, share: number): boolean {
    const n = (this.covered.get(fault) ?? 0) + 1;
    this.covered.set(fault, n);
    return Math.floor(n * share) > Math.floor((n - 1) * share);
  }
}
