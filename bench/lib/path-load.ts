import autocannon from "autocannon";

export interface PathLoadOptions {
  /** Origin, e.g. http://127.0.0.1:8080. */
  origin: string;
  headers?: Record<string, string>;
  /** The path of each request in turn; cycles when `durationSeconds` outlasts it. */
  paths: readonly string[];
  connections: number;
  /** Stop after this long; unset: send each path once. */
  durationSeconds?: number;
}

export interface PathLoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, connection errors and timeouts together. */
  errors: number;
}

/** GETs many distinct paths (e.g. one user each) with autocannon and summarises. */
export function getPaths(options: PathLoadOptions): Promise<PathLoadResult> {
  let next = 0;
  const once = options.durationSeconds === undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.origin,
        method: "GET",
        headers: options.headers ?? {},
        connections: options.connections,
        ...(once ? { amount: options.paths.length } : { duration: options.durationSeconds }),
        timeout: 10,
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              path: options.paths[next++ % options.paths.length] as string,
            }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requests: result.requests.total,
          requestsPerSecond: result["2xx"] / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
  });
}
