import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the receiver got it: the raw body, as a signature check needs it. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Arrival, in ms since the epoch. */
  readonly at: number;
}

/** What to answer the `index`-th request (0-based): a status, after an optional delay. */
export type Answer = (
  request: Received,
  index: number,
) => number | { status: number; body?: string; delayMs?: number; location?: string } | "hang";

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  /** Answers every request left hanging so far with 200. */
  releaseHanging(): void;
  close(): Promise<void>;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 (port 0: a free one), recording every request.
 * `answer` decides the reply; 200 by default.
 */
export async function startReceiver(
  options: { port?: number; answer?: Answer } = {},
): Promise<Receiver> {
  const requests: Received[] = [];
  const hanging: Array<() => void> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received: Received = {
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      const index = requests.push(received) - 1;
      const answer = options.answer?.(received, index) ?? 200;
      if (answer === "hang") {
        hanging.push(() => response.writeHead(200).end("ok"));
        return;
      }
      const { status, body, delayMs, location } =
        typeof answer === "number" ? { status: answer } : answer;
      setTimeout(() => {
        response.writeHead(status, location ? { location } : {}).end(body ?? "ok");
      }, delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    releaseHanging: () => {
      for (const release of hanging.splice(0)) release();
    },
    close: async () => {
      for (const release of hanging.splice(0)) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
