import autocannon from "autocannon";
import { withCpuShares } from "./load.js";

export interface GetLoadOptions {
  url: string;
  headers?: Record<string, string>;
  /** The server's pid, to report how busy its core was (see {@link withBusyShare}). */
  serverPid: number;
  durationSeconds: number;
  connections: number;
}

export interface GetLoadResult {
  /** 2xx answers per second. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, connection errors and timeouts together. */
  errors: number;
  /** Share of one core the server used; near 1 means the server was the limit. */
  serverBusy: number | undefined;
  /** Share of one core this process (autocannon) used. */
  clientBusy: number;
}

/** GETs `url` with autocannon for a while, the same request each time, and summarises. */
export function getLoad(options: GetLoadOptions): Promise<GetLoadResult> {
  return withCpuShares(options.serverPid, () => load(options));
}

function load(options: GetLoadOptions): Promise<Omit<GetLoadResult, "serverBusy" | "clientBusy">> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        method: "GET",
        headers: options.headers ?? {},
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requestsPerSecond: result["2xx"] / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
  });
}
