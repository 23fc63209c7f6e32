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
  times: number;
}

/** Fault injection for tests: `POST /emulator/faults` programs, every request consults. */
export class Faults {
  private faults: Fault[] = [];

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
}
