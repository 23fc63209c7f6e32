/** Latencies and errors of one kind of operation, collected for a period and then summarised. */
export class LatencyLog {
  private samples: number[] = [];
  private failures = 0;
  /** The first few distinct failure descriptions, to say what went wrong. */
  readonly failureKinds = new Map<string, number>();

  ok(ms: number): void {
    this.samples.push(ms);
  }

  failed(ms: number, why: string): void {
    this.samples.push(ms);
    this.failures++;
    if (this.failureKinds.has(why) || this.failureKinds.size < 10)
      this.failureKinds.set(why, (this.failureKinds.get(why) ?? 0) + 1);
  }

  /** The period's figures; starts a new period. */
  take(): LatencySummary {
    const sorted = this.samples.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const summary = {
      count: sorted.length,
      errors: this.failures,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
    this.samples = [];
    this.failures = 0;
    return summary;
  }
}

export interface LatencySummary {
  count: number;
  errors: number;
  /** Undefined when nothing was measured. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}
