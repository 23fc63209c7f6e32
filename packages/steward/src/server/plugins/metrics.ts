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
  readonly httpSeconds = new Histogram({
    name: "steward_http_request_duration_seconds",
    help: "HTTP request latency by route and status.",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "steward_" });
  }
}
