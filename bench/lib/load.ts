import autocannon from "autocannon";
import { withBusyShare } from "./cpu-time.js";

export interface LoadOptions {
  url: string;
  /** The server's pid, to report how busy its core was (see {@link withBusyShare}). */
  serverPid: number;
  /** Seconds; with `amount`, the most it may take. */
  durationSeconds: number;
  /** Stop after this many requests. */
  amount?: number;
  connections?: number;
  /** Sent on top of the form's content type (a JSON body names its own). */
  headers?: Record<string, string>;
  /** Fixed body, or one per connection, or one per request (the latter consumed in order). */
  body:
    | { kind: "fixed"; value: string }
    | { kind: "perConnection"; values: readonly string[] }
    | { kind: "perRequest"; next: () => string | undefined };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx responses, connection errors and timeouts together. */
  errors: number;
  total: number;
  durationSeconds: number;
  /** Responses in each second of the run, to show a rate that drifts. */
  perSecond: number[];
  /** True when a per-request body source ran dry and the run stopped early. */
  ranDry: boolean;
  /** Share of one core the server used; near 1 means the server, not the load, was the limit. */
  serverBusy: number | undefined;
  /** Share of one core this process (autocannon) used. */
  clientBusy: number;
}

const FORM_HEADERS = { "content-type": "application/x-www-form-urlencoded" };

/** POSTs bodies (forms unless `headers` says otherwise) at `url` with autocannon (64 connections by default) and summarises. */
export function postForms(options: LoadOptions): Promise<LoadResult> {
  return withCpuShares(options.serverPid, () => load(options));
}

/** Runs a load and adds the shares of a core the server and this process used meanwhile. */
export async function withCpuShares<T>(
  serverPid: number,
  run: () => Promise<T>,
): Promise<T & { serverBusy: number | undefined; clientBusy: number }> {
  const clientBefore = process.cpuUsage();
  const startedAt = performance.now();
  const { value, busyShare } = await withBusyShare(serverPid, run);
  const client = process.cpuUsage(clientBefore);
  const wallMicros = (performance.now() - startedAt) * 1000;
  return {
    ...value,
    serverBusy: busyShare,
    clientBusy: (client.user + client.system) / wallMicros,
  };
}

function load(options: LoadOptions): Promise<Omit<LoadResult, "serverBusy" | "clientBusy">> {
  const { body } = options;
  let ranDry = false;
  let instance: autocannon.Instance | undefined;
  const base: autocannon.Options = {
    url: options.url,
    method: "POST",
    headers: { ...FORM_HEADERS, ...options.headers },
    connections: options.connections ?? 64,
    duration: options.durationSeconds,
    timeout: 10,
  };
  if (options.amount !== undefined) base.amount = options.amount;
  if (body.kind === "fixed") base.body = body.value;
  if (body.kind === "perConnection") {
    let index = 0;
    // A fixed body per connection keeps autocannon's prebuilt request buffer (cheap for the client).
    base.setupClient = (client) => {
      client.setBody(body.values[index++ % body.values.length]);
    };
  }
  if (body.kind === "perRequest") {
    base.requests = [
      {
        setupRequest: (request) => {
          const next = body.next();
          if (next === undefined && !ranDry) {
            ranDry = true;
            instance?.stop();
          }
          // An empty body after the source ran dry answers 400 and shows up as an error.
          return { ...request, body: next ?? "" };
        },
      },
    ];
  }
  const perSecond: number[] = [];
  return new Promise((resolve, reject) => {
    instance = autocannon(base, (error, result) => {
      if (error) return reject(error);
      resolve({
        requestsPerSecond: result["2xx"] / result.duration,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.non2xx + result.errors + result.timeouts,
        total: result.requests.total,
        durationSeconds: result.duration,
        perSecond,
        ranDry,
      });
    });
    instance.on("tick", (tick: { counter: number }) => perSecond.push(tick.counter));
  });
}
