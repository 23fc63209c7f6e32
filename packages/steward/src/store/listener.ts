import pg from "pg";
import type { VaultLogger } from "../shared/index.js";

/** A `LISTEN` that runs until closed. */
export interface Listening {
  /** Stops listening and closes its connection. Idempotent. */
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
/** Name of the listening session in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = "steward-listener";

/**
 * What a `NOTIFY` said: its payload (`''` when it gave none), or `undefined` when listening has
 * (re)started and anything sent before may have been missed.
 */
export type OnNotify = (payload: string | undefined) => void;

/**
 * Calls `onNotify` with the payload of each `NOTIFY` on `channel`, on a connection of its own
 * (a `LISTEN` holds its session, so it cannot share the pool). When that connection is lost it
 * is opened again, after 1 s and then every 5 s. `onNotify(undefined)` is called each time the
 * `LISTEN` takes effect, the first time included: what was sent before was missed. A failure to
 * open it the first time is logged and retried the same way; it never throws.
 */
export function listen(
  config: pg.ClientConfig,
  channel: string,
  onNotify: OnNotify,
  logger: VaultLogger,
): Listening {
  if (!CHANNEL.test(channel)) throw new TypeError(`${channel} is not a channel name`);
  let closed = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let opening: Promise<void> = Promise.resolve();

  const lost = (client: pg.Client, error?: Error & { code?: string }) => {
    if (client !== current || closed) return;
    current = undefined;
    logger.warn({ channel, code: error?.code }, "the LISTEN connection was lost; reconnecting");
    client.end().catch(() => undefined);
    reopen(1_000);
  };

  const open = async (): Promise<void> => {
    const client = new pg.Client({ ...config, application_name: LISTENER_APPLICATION_NAME });
    client.on("notification", (message) => {
      if (message.channel === channel) onNotify(message.payload ?? "");
    });
    client.on("error", (error) => lost(client, error));
    client.on("end", () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
  };

  const reopen = (delayMs: number) => {
    retry = setTimeout(() => {
      retry = undefined;
      opening = open().then(
        () => {
          if (!closed) onNotify(undefined);
        },
        (error: Error & { code?: string }) => {
          if (closed) return;
          logger.warn({ channel, code: error.code }, "cannot LISTEN; retrying in 5 s");
          reopen(5_000);
        },
      );
    }, delayMs);
    retry.unref();
  };

  opening = open().then(
    () => {
      if (!closed) onNotify(undefined);
    },
    (error: Error & { code?: string }) => {
      logger.warn({ channel, code: error.code }, "cannot LISTEN; retrying in 5 s");
      if (!closed) reopen(5_000);
    },
  );
  return {
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await opening;
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
