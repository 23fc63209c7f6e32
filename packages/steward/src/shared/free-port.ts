import { createServer } from "node:net";

/** A port on 127.0.0.1 held by a listener of ours until `release()`. */
export interface ReservedPort {
  readonly port: number;
  /** Closes the holding listener; idempotent. Use the port right after. */
  release(): Promise<void>;
}

/**
 * Picks a free TCP port on 127.0.0.1 (the kernel's choice for a listener on port 0) and keeps
 * it taken until `release()`: a port picked long before it is used (a service learns its URL
 * before its start-up ends) would otherwise be open to anyone who asks for a port meanwhile.
 * `preferred`, when free, is taken instead.
 */
export async function reserveLoopbackPort(preferred = 0): Promise<ReservedPort> {
  const server = createServer();
  server.unref();
  const listen = (port: number) =>
    new Promise<void>((listening, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        listening();
      });
    });
  // A preferred port someone else holds: any free one.
  await listen(preferred).catch(() => listen(0));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  let released: Promise<void> | undefined;
  return {
    port,
    release: () => {
      released ??= new Promise((closed) => server.close(() => closed()));
      return released;
    },
  };
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Someone may take it before it is used;
 * callers retry, or hold it with {@link reserveLoopbackPort}.
 */
export async function freeLoopbackPort(preferred = 0): Promise<number> {
  const reserved = await reserveLoopbackPort(preferred);
  await reserved.release();
  return reserved.port;
}
