import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The service's Prometheus metrics, in a registry of its own. Labels never carry a secret. */
export class Metrics {
  readonly registry = new Registry();
  readonly codeExchanges = new Counter({
    name: "steward_code_exchanges_total",
    help: "Sign-in code exchanges by outcome (ok or the error code).",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly codeExchangeSeconds = new Histogram({
    name: "steward_code_exchange_duration_seconds",
    help: "Time from receiving a sign-in code to answering, by outcome.",
    labelNames: ["outcome"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly httpSeconds = new HttpHistogram();

  constructor() {
    // Exposed as prom-client exposes its own histograms; see HttpHistogram.
    this.registry.registerMetric(this.httpSeconds as unknown as Histogram);
    collectDefaultMetrics({ register: this.registry, prefix: "steward_" });
  }
}

const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface Series {
  labels: { method: string; route: string; status: string };
  /** Observations per bucket (not cumulative), the last for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * `steward_http_request_duration_seconds`, a histogram by method, route and status, recorded on
 * every request for one map lookup and a few additions: prom-client's `observe()` checks and
 * hashes the labels on each call, which was ~3% of the access-token route's CPU
 * (bench/tokens.bench.ts, part b). The registry reads it through `get()`, as it reads its own.
 */
export class HttpHistogram {
  readonly name = "steward_http_request_duration_seconds";
  readonly help = "HTTP request latency by route and status.";
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status: String(status) },
        counts: new Array<number>(HTTP_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < HTTP_BUCKETS.length && seconds > (HTTP_BUCKETS[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += seconds;
    series.count++;
  }

  async get() {
    const values = [...this.series.values()].flatMap(({ labels, counts, sum, count }) => {
      let cumulative = 0;
      const buckets = [...HTTP_BUCKETS, "+Inf" as const].map((le, index) => {
        cumulative += counts[index] as number;
        return { labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` };
      });
      return [
        ...buckets,
        { labels, value: sum, metricName: `${this.name}_sum` },
        { labels, value: count, metricName: `${this.name}_count` },
      ];
    });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.series.clear();
  }
}
